/**
 * Keeps `<LOGS_DIR>/sop/<name>/<timestamp>-<run_id>.json` in step with the store: rewritten
 * atomically at every change, sealed into the SOP's hash chain when the run ends. A write that
 * fails (disk full, unwritable LOGS_DIR) never stops a run: it is logged once per cause and
 * retried until it lands.
 */
import { auditRecord, secretNamedValues, type AuditRecord } from "../core/audit/audit-record.ts";
import { isTerminal } from "../core/run/run-state.ts";
import { auditFilePath } from "../audit/audit-path.ts";
import { sealRecord } from "../audit/hash-record.ts";
import { writeJsonAtomic } from "../audit/write-audit-file.ts";
import { redactText } from "../exec/redact.ts";
import type { RunStore, StoredRun } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";
import { access } from "node:fs/promises";

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

const RETRY_MS = 2000;

export class AuditSink {
  private inflight = new Map<string, Promise<void>>();
  private dirty = new Set<string>();
  private failing = new Map<string, string>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      logsDir: string;
      store: RunStore;
      secretValues: (stored: StoredRun) => string[];
      log: Logger;
      /** False for processes that keep no audit files (a Redis `sop worker`): records are still built on request. */
      writes?: boolean;
    },
  ) {}

  /** The record as it stands, redacted, with its seal once sealed. */
  record(stored: StoredRun): AuditRecord {
    const { inputVars, outputVars } = stored.run;
    const secrets = [...this.deps.secretValues(stored), ...secretNamedValues({ ...inputVars, ...outputVars })];
    const record = auditRecord(stored.definition, stored.run, (t) => redactText(t, secrets));
    return stored.seal ? { ...record, seq: stored.seal.seq, prev_hash: stored.seal.prevHash, hash: stored.seal.hash } : record;
  }

  /** Ask for the run's file to be brought up to date; writes for one run never overlap. */
  update(runId: string): Promise<void> {
    if (this.deps.writes === false) return Promise.resolve();
    const running = this.inflight.get(runId);
    if (running) {
      this.dirty.add(runId);
      return running;
    }
    const p = this.flush(runId).finally(() => {
      this.inflight.delete(runId);
      if (this.dirty.delete(runId)) void this.update(runId);
    });
    this.inflight.set(runId, p);
    return p;
  }

  /**
   * Bring LOGS_DIR up to date with the store: runs still going or not yet sealed, and sealed
   * runs whose file this machine lacks (events are at most once; a process that was down
   * missed some).
   */
  async reconcile(): Promise<number> {
    if (this.deps.writes === false) return 0;
    let written = 0;
    for (const run of await this.deps.store.list()) {
      const stored = await this.deps.store.get(run.id);
      if (!stored) continue;
      const path = auditFilePath(this.deps.logsDir, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
      if (stored.seal && (await exists(path))) continue;
      await this.update(run.id);
      written++;
    }
    return written;
  }

  /** Wait for every pending write. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()]);
  }

  close(): void {
    clearTimeout(this.retryTimer);
  }

  private async flush(runId: string): Promise<void> {
    let stored = await this.deps.store.get(runId);
    if (!stored) return;
    // The file is named after the run's start: a queued run gets none until it starts (or ends
    // without starting, when its acceptance time names it).
    if (stored.run.startedAt === undefined && !isTerminal(stored.run.status)) return;
    if (isTerminal(stored.run.status) && !stored.seal) stored = await this.seal(stored);
    const { run } = stored;
    const path = auditFilePath(this.deps.logsDir, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
    try {
      // The store is the truth while a run goes on; the final record is the one that must last.
      await writeJsonAtomic(path, this.record(stored), { what: "audit file", durable: isTerminal(run.status) });
      if (this.failing.delete(runId)) this.deps.log.info({ runId, path }, "audit file written after earlier failures");
    } catch (err) {
      const cause = (err as Error).message;
      if (![...this.failing.values()].includes(cause)) this.deps.log.error({ runId, err: cause }, `audit: ${cause}; the run goes on and the write is retried`);
      this.failing.set(runId, cause);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const runId of this.failing.keys()) void this.update(runId);
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /** Join the SOP's chain: seq and prev_hash come from the store's head, moved by compare-and-set. */
  private async seal(stored: StoredRun): Promise<StoredRun> {
    const { store } = this.deps;
    const record = this.record(stored);
    for (let attempt = 0; attempt < 50; attempt++) {
      const head = await store.chainHead(stored.run.sop);
      if (head.runId === stored.run.id && head.prevHash !== undefined) {
        // A seal interrupted between moving the head and recording it on the run: finish it.
        const seal = { seq: head.seq, prevHash: head.prevHash, hash: head.hash };
        await store.setSeal(stored.run.id, seal);
        return { ...stored, seal };
      }
      const sealed = sealRecord(record as unknown as Record<string, unknown>, { seq: head.seq + 1, prevHash: head.hash });
      const next = { seq: sealed.seq, hash: sealed.hash, runId: stored.run.id, prevHash: head.hash };
      if (!(await store.advanceChain(stored.run.sop, head, next))) continue;
      const seal = { seq: sealed.seq, prevHash: head.hash, hash: sealed.hash };
      await store.setSeal(stored.run.id, seal);
      return { ...stored, seal };
    }
    throw new Error(`could not seal the audit record of run ${stored.run.id}: the chain head of ${stored.run.sop} kept moving`);
  }
}
