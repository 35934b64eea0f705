/**
 * The floor of a Redis run: only the store and queue work the contract asks of every run, with
 * nothing of the engine around it. Per run: admission (`RedisRunStore.admit`: the cooldown and
 * `max_concurrent` check, the run hash and its history indexes), one BullMQ job through
 * `BullmqQueue` (the runner's options: priority, deduplication, removal), and one transition that
 * starts and ends the run and seals its record (`RedisRunStore.update`: the compare-and-set, slot
 * release, chain head and indexes), the seals of one SOP made one after another as the engine
 * makes them, since each links to the one before. No claims, audit files, events or timers.
 *
 * Printed beside the end-to-end figure, it shows how much of the gap to raw BullMQ is the
 * engine's and how much the store's own round trips.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { loadSops } from "../src/app/load-sops.ts";
import { applyInOrder } from "../src/core/run/apply-in-order.ts";
import { auditRecord } from "../src/core/audit/audit-record.ts";
import { newRun } from "../src/core/run/new-run.ts";
import type { AuditRecord } from "../src/core/audit/audit-record.ts";
import type { ChainHead, StoredRun } from "../src/ports/run-store.ts";
import { sealRecord } from "../src/audit/hash-record.ts";
import { BullmqQueue, RedisRunStore } from "../src/drivers/redis/index.ts";
import { keyPrefix } from "../src/drivers/redis/redis-keys.ts";

export interface FloorRunner {
  /** Admits `count` runs at once and resolves when each was sealed. */
  burst(count: number): Promise<void>;
  close(): Promise<void>;
}

/** The floor on `connection` under `prefix`, for the SOP in `sopsDir` (one SOP of notes). */
export async function openFloor(connection: Redis, prefix: string, sopsDir: string, concurrency: number): Promise<FloorRunner> {
  const [loaded] = (await loadSops(sopsDir)).sops;
  if (loaded === undefined) throw new Error(`no SOP loads from ${sopsDir}`);
  const definition = loaded.definition;
  const store = new RedisRunStore(connection, { prefix });
  const queue = new BullmqQueue({ connection, prefix: keyPrefix(prefix), onError: (error) => failed(error) });
  let head: ChainHead = await store.chainHead(definition.name);
  /** The seals of the SOP, one after another (the engine's turn). */
  let sealing: Promise<unknown> = Promise.resolve();
  const admitted = new Map<string, StoredRun>();
  let done = 0;
  let wake: () => void = () => undefined;
  let failure: Error | undefined;
  const failed = (error: unknown) => {
    failure ??= error instanceof Error ? error : new Error(String(error));
    wake();
  };

  queue.process(async (job) => {
    // As admitted here: the engine keeps what it wrote too, rather than read it back.
    const stored = admitted.get(job.runId);
    if (stored === undefined) throw new Error(`run ${job.runId} was not admitted here`);
    admitted.delete(job.runId);
    const at = Date.now();
    const { run } = applyInOrder(definition, stored.run, [{ input: { type: "start" }, at }]);
    const next = { ...run, revision: stored.run.revision + 1 };
    if (next.status !== "success") throw new Error(`the floor's SOP must end at its start, not be ${next.status}`);
    const seal = async () => {
      const sealed = sealRecord(auditRecord(definition, next, (t) => t) as unknown as Record<string, unknown>, { seq: head.seq + 1, prevHash: head.hash });
      const ending = { seal: { seq: sealed.seq, prevHash: head.hash, hash: sealed.hash }, record: sealed as unknown as AuditRecord };
      const outcome = await store.update(next.id, stored.run.revision, next, ending);
      if (!outcome.ok) throw new Error(`sealing run ${next.id} failed: ${outcome.why}`);
      head = { seq: sealed.seq, hash: sealed.hash, runId: next.id };
    };
    const mine = sealing.then(seal);
    sealing = mine.catch(() => undefined);
    await mine;
    done++;
    wake();
  }, concurrency);

  const admitOne = async (): Promise<void> => {
    const run = newRun(definition, { id: randomUUID(), definitionHash: loaded.hash, trigger: { type: "manual" }, requestedBy: "bench", vars: {}, now: Date.now() });
    const stored: StoredRun = { run, definition, dir: loaded.dir };
    const admission = await store.admit(stored, { cooldownSecs: 0, force: false, now: run.queuedAt });
    if (!admission.accepted) throw new Error(`run ${run.id} was refused: ${admission.reason}`);
    admitted.set(run.id, stored);
    await queue.enqueue({ kind: "advance", runId: run.id }, { priority: run.priority, id: `advance-${run.id}-0` });
  };

  return {
    async burst(count) {
      done = 0;
      await Promise.all(Array.from({ length: count }, admitOne));
      while (done < count && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      if (failure !== undefined) throw failure;
    },
    async close() {
      await queue.close();
      await store.close();
    },
  };
}
