import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { RUN_STATUSES, type RunState } from "../../core/run/run-state.ts";
import type { Priority, SopDefinition } from "../../core/sop/types.ts";
import type { Admission, ChainHead, RunFilter, RunStore, Seal, StoredRun } from "../../ports/run-store.ts";
import { DEFAULT_PREFIX, redisKeys, type RedisKeys } from "./redis-keys.ts";
import { defineScripts, runScript } from "./scripts.ts";

const GENESIS: ChainHead = { seq: 0, hash: "0".repeat(64) };
const LINE_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };
// Line score = rank * RANK_SPAN + queuedAt: exact in a double up to rank 3 (4e13 < 2^53), and
// ZRANGE breaks equal scores by id, the same total order as the local store.
const RANK_SPAN = 1e13;
const DEFINITION_CACHE = 128;

export interface RedisRunStoreOptions {
  /** Key prefix of the deployment; default `sop`. */
  prefix?: string;
}

/**
 * The Redis `RunStore`: one hash per run, indexes per SOP, and every check-and-change as one Lua
 * script (see `./lua`), so admission, slots, compare-and-set and the chain head hold across
 * processes. Definitions are stored once per content hash, so a run costs its state and a few
 * index entries. The connection belongs to the caller.
 */
export class RedisRunStore implements RunStore {
  readonly prefix: string;
  readonly keys: RedisKeys;
  /** Definition JSON by sha256: immutable, so safe to keep; bounded, oldest out first. */
  private readonly definitions = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    options: RedisRunStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = redisKeys(this.prefix);
    defineScripts(redis);
  }

  async admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission> {
    this.assertOpen();
    const { run } = stored;
    if (run.id === "") throw new RangeError("cannot admit a run with an empty id");
    const definition = JSON.stringify(stored.definition);
    const sha = sha256(definition);
    const k = this.keys;
    const result = (await runScript(
      this.redis,
      "admit",
      [k.run(run.id), k.definition(sha), k.last(run.sop), k.status(run.sop, run.status), k.line(run.sop), k.slots(run.sop), k.sops],
      [
        run.id, run.sop, JSON.stringify(run), run.revision, run.status, stored.dir, sha, definition,
        stored.holdsSlot ? "1" : "0", stored.seal === undefined ? "" : JSON.stringify(stored.seal),
        opts.now, Math.max(0, opts.cooldownSecs * 1000), opts.force ? "1" : "0", run.queuedAt, lineScore(run),
      ],
    )) as number[];
    if (result[0] === -1) throw new Error(`cannot admit run ${run.id}: a run with that id already exists`);
    if (result[0] === 0) return { accepted: false, reason: "cooldown", retryAfterSecs: Math.ceil((result[1] ?? 0) / 1000) };
    this.remember(sha, definition);
    return { accepted: true };
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    const [run, sha, dir, slot, seal] = await this.redis.hmget(this.keys.run(runId), "run", "def", "dir", "slot", "seal");
    if (run == null || sha == null) return undefined;
    const stored: StoredRun = {
      run: JSON.parse(run) as RunState,
      definition: JSON.parse(await this.definition(sha, runId)) as SopDefinition,
      dir: dir ?? "",
      holdsSlot: slot === "1",
    };
    if (seal != null) stored.seal = JSON.parse(seal) as Seal;
    return stored;
  }

  async update(runId: string, expectedRevision: number, next: RunState): Promise<boolean> {
    this.assertOpen();
    if (next.id !== runId) throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    const statusKeys = RUN_STATUSES.map((status) => this.keys.status(next.sop, status));
    const result = await runScript(
      this.redis,
      "update",
      [this.keys.run(runId), this.keys.line(next.sop), ...statusKeys],
      [runId, expectedRevision, JSON.stringify(next), next.revision, next.status, next.sop, next.queuedAt, ...RUN_STATUSES],
    );
    if (result === -1) throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    return result === 1;
  }

  async list(filter: RunFilter = {}): Promise<RunState[]> {
    const sops = filter.sop === undefined ? await this.redis.smembers(this.keys.sops) : [filter.sop];
    const statuses = filter.statuses ?? RUN_STATUSES;
    const ranges = this.redis.pipeline();
    for (const sop of sops) for (const status of statuses) ranges.zrange(this.keys.status(sop, status), 0, "-1", "WITHSCORES");
    const entries: { id: string; queuedAt: number }[] = [];
    for (const [error, reply] of (await ranges.exec()) ?? []) {
      if (error) throw error;
      const flat = reply as string[];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i]!, queuedAt: Number(flat[i + 1]) });
    }
    entries.sort((a, b) => a.queuedAt - b.queuedAt || compareIds(a.id, b.id));
    if (entries.length === 0) return [];
    const reads = this.redis.pipeline();
    for (const { id } of entries) reads.hget(this.keys.run(id), "run");
    const found: RunState[] = [];
    for (const [error, reply] of (await reads.exec()) ?? []) {
      if (error) throw error;
      if (typeof reply !== "string") continue;
      const run = JSON.parse(reply) as RunState;
      // The status may have moved between the two round trips; the filter is on the state read.
      if (filter.statuses === undefined || filter.statuses.includes(run.status)) found.push(run);
    }
    return found;
  }

  async tryStart(runId: string, maxConcurrent: number): Promise<boolean> {
    this.assertOpen();
    const sop = await this.sopOf(runId);
    if (sop === undefined) return false;
    const result = await runScript(this.redis, "tryStart", [this.keys.run(runId), this.keys.line(sop), this.keys.slots(sop), this.keys.blocked(sop)], [runId, maxConcurrent]);
    return result === 1;
  }

  async release(runId: string, maxConcurrent: number): Promise<string[]> {
    this.assertOpen();
    const sop = await this.sopOf(runId);
    if (sop === undefined) return [];
    return (await runScript(this.redis, "release", [this.keys.run(runId), this.keys.line(sop), this.keys.slots(sop), this.keys.blocked(sop)], [runId, maxConcurrent])) as string[];
  }

  async cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number> {
    const last = await this.redis.get(this.keys.last(sop));
    if (last === null || cooldownSecs <= 0) return 0;
    return Math.ceil(Math.max(0, Number(last) + cooldownSecs * 1000 - now) / 1000);
  }

  async chainHead(sop: string): Promise<ChainHead> {
    const head = await this.redis.hget(this.keys.chains, sop);
    return head === null ? { ...GENESIS } : (JSON.parse(head) as ChainHead);
  }

  async advanceChain(sop: string, expected: ChainHead, next: ChainHead): Promise<boolean> {
    this.assertOpen();
    const result = await runScript(this.redis, "advanceChain", [this.keys.chains], [sop, expected.seq, expected.hash, JSON.stringify(next)]);
    return result === 1;
  }

  async setSeal(runId: string, seal: Seal): Promise<void> {
    this.assertOpen();
    const result = await runScript(this.redis, "setSeal", [this.keys.run(runId)], [JSON.stringify(seal)]);
    if (result !== 1) throw new Error(`cannot seal run ${runId}: the store has no such run`);
  }

  async chainHeads(): Promise<Map<string, ChainHead>> {
    const all = await this.redis.hgetall(this.keys.chains);
    return new Map(Object.entries(all).map(([sop, head]) => [sop, JSON.parse(head) as ChainHead]));
  }

  /** Later changes are refused. The connection stays open: it belongs to the caller. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the Redis run store with prefix ${this.prefix} is closed`);
  }

  // A run's SOP never changes, so reading it ahead of a script is safe; the script re-reads the rest.
  private async sopOf(runId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.run(runId), "sop")) ?? undefined;
  }

  private async definition(sha: string, runId: string): Promise<string> {
    const cached = this.definitions.get(sha);
    if (cached !== undefined) return cached;
    const json = await this.redis.get(this.keys.definition(sha));
    if (json === null) throw new Error(`run ${runId} pins definition ${sha}, which is missing from Redis (${this.keys.definition(sha)})`);
    this.remember(sha, json);
    return json;
  }

  private remember(sha: string, json: string): void {
    if (this.definitions.has(sha)) return;
    if (this.definitions.size >= DEFINITION_CACHE) this.definitions.delete(this.definitions.keys().next().value!);
    this.definitions.set(sha, json);
  }
}

function lineScore(run: RunState): number {
  if (!Number.isSafeInteger(run.queuedAt) || run.queuedAt < 0 || run.queuedAt >= RANK_SPAN) {
    throw new RangeError(`run ${run.id} has queuedAt ${run.queuedAt}; the Redis store needs whole epoch milliseconds below ${RANK_SPAN}`);
  }
  return LINE_RANK[run.priority] * RANK_SPAN + run.queuedAt;
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
