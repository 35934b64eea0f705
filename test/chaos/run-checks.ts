/**
 * Reading the truth after the chaos: the store (Redis under the scenario's prefix, or DATA_DIR
 * read-only beside the serve that holds it), waiting for every run to settle, and checking that
 * every ended run has its final, sealed audit file in a serve's LOGS_DIR.
 */
import { readFile } from "node:fs/promises";
import { auditFilePath } from "../../src/audit/audit-path.ts";
import type { AuditRecord } from "../../src/core/audit/audit-record.ts";
import { isTerminal, type RunState } from "../../src/core/run/run-state.ts";
import { FileRunStore } from "../../src/drivers/local/file-run-store.ts";
import { openRedisStore } from "../../src/drivers/redis/index.ts";
import type { RunStore } from "../../src/ports/run-store.ts";
import type { Tally } from "./harness.ts";

/** The store of one deployment, read from outside it. */
export class StoreReader {
  private constructor(
    readonly label: string,
    private readonly open: () => Promise<{ store: RunStore; done: () => Promise<void> }>,
    private readonly closeAll: () => Promise<void>,
  ) {}

  /** DATA_DIR, read-only: opened afresh for every look, since the serve keeps writing it. */
  static local(dataDir: string): StoreReader {
    return new StoreReader(`DATA_DIR ${dataDir}`, async () => {
      const store = await FileRunStore.open(dataDir, { readOnly: true });
      return { store, done: () => store.close() };
    }, async () => undefined);
  }

  static async redis(url: string, prefix: string): Promise<StoreReader> {
    const { store, close } = await openRedisStore({ url, prefix });
    return new StoreReader(`Redis ${url} prefix ${prefix}`, async () => ({ store, done: async () => undefined }), close);
  }

  async read<T>(fn: (store: RunStore) => Promise<T>): Promise<T> {
    const { store, done } = await this.open();
    try {
      return await fn(store);
    } finally {
      await done();
    }
  }

  close(): Promise<void> {
    return this.closeAll();
  }
}

export interface SettleOptions {
  /** Runs the scenario knows were accepted: each must be in the store. */
  expected: readonly string[];
  /** At rest as the scenario wants it; default: ended. */
  settled?: (run: RunState) => boolean;
  /** Give up when nothing settles for this long (lock duration + sweep interval + slack). */
  stallMs: number;
  /** And in any case after this long. */
  maxMs: number;
  log?: (line: string) => void;
}

export interface SettleReport {
  runs: RunState[];
  /** Runs not settled when the waiting ended. */
  stuck: RunState[];
  /** Accepted runs the store does not know. */
  missing: string[];
}

/** Waits for every run in the store (and every expected one) to settle, as long as runs keep settling. */
export async function waitSettled(reader: StoreReader, opts: SettleOptions): Promise<SettleReport> {
  const settled = opts.settled ?? ((r: RunState) => isTerminal(r.status));
  const started = Date.now();
  let lastProgress = Date.now();
  let best = -1;
  let lastLog = 0;
  for (;;) {
    const runs = await reader.read((s) => s.list());
    const known = new Set(runs.map((r) => r.id));
    const missing = opts.expected.filter((id) => !known.has(id));
    const stuck = runs.filter((r) => !settled(r));
    const done = runs.length - stuck.length;
    if (done > best) {
      best = done;
      lastProgress = Date.now();
    }
    if (stuck.length === 0 && missing.length === 0) return { runs, stuck, missing };
    const now = Date.now();
    if (now - lastProgress > opts.stallMs || now - started > opts.maxMs) return { runs, stuck, missing };
    if (now - lastLog > 10_000) {
      lastLog = now;
      opts.log?.(`waiting for ${stuck.length} of ${runs.length} runs to settle (${[...new Set(stuck.map((r) => r.status))].join(", ")})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Counts what settling left: stuck runs and accepted runs the store lost. */
export function countSettle(report: SettleReport, tally: Tally, where: string): void {
  for (const run of report.stuck) {
    const steps = run.steps.map((s) => `${s.number}:${s.status}${s.reason ? `(${s.reason.slice(0, 60)})` : ""}`).join(" ");
    tally.add("lostOrStuck", 1, `${where}: run ${run.id} of ${run.sop} is still ${run.status} [${steps}]`);
  }
  for (const id of report.missing) tally.add("lostOrStuck", 1, `${where}: run ${id} was accepted (202) but the store does not know it`);
}

/** Why the audit file of an ended run is not its final sealed record, or undefined when it is. */
async function fileProblem(logsDir: string, run: RunState, store: RunStore): Promise<string | undefined> {
  const path = auditFilePath(logsDir, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
  let record: AuditRecord;
  try {
    record = JSON.parse(await readFile(path, "utf8")) as AuditRecord;
  } catch (err) {
    return `${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (err as Error).message}`;
  }
  if (record.status !== run.status) return `${path}: status ${record.status}, the store says ${run.status}`;
  if (record.seq === undefined || record.prev_hash === undefined || record.hash === undefined) return `${path}: ${run.status} but not sealed (no seq/prev_hash/hash)`;
  const stored = await store.get(run.id);
  if (stored?.seal && (stored.seal.hash !== record.hash || stored.seal.seq !== record.seq)) {
    return `${path}: sealed as seq ${record.seq} ${record.hash.slice(0, 12)}, the store sealed seq ${stored.seal.seq} ${stored.seal.hash.slice(0, 12)}`;
  }
  return undefined;
}

/**
 * Every ended run must have its final sealed file in `logsDir`. Files are a projection that the
 * serve brings up to date from events and on each sweep tick, so this waits up to `waitMs` for
 * them before counting what is still wrong.
 */
/** Returns how many ended runs lack their final file. */
export async function checkAuditFiles(reader: StoreReader, logsDir: string, waitMs: number, tally: Tally, where: string): Promise<number> {
  const deadline = Date.now() + waitMs;
  let problems: string[];
  for (;;) {
    problems = await reader.read(async (store) => {
      const runs = (await store.list()).filter((r) => isTerminal(r.status));
      const found = await Promise.all(runs.map((r) => fileProblem(logsDir, r, store)));
      return found.filter((p): p is string => p !== undefined);
    });
    if (problems.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const p of problems) tally.add("auditNotFinal", 1, `${where}: ${p}`);
  return problems.length;
}

/** Polls one run in the store until `check` holds; undefined when it does not within `ms`. */
export async function runUntil(reader: StoreReader, runId: string, check: (run: RunState) => boolean, ms: number): Promise<RunState | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = await reader.read(async (s) => (await s.get(runId))?.run);
    if (run && check(run)) return run;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
