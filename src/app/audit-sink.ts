/**
 * Keeps `<LOGS_DIR>/sop/<name>/<timestamp>-<run_id>.json` in step with the store: a projection
 * that any process can bring up to date. While a run goes on its file is rewritten from the store
 * at every change; once it ended, the file holds the sealed record the store kept when the run
 * ended (the seal is made there, with the transition, never here). A write that fails (disk full,
 * unwritable LOGS_DIR) never stops a run: it is logged once per cause and retried until it lands.
 */
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { auditRecord, secretNamedValues, type AuditRecord } from "../core/audit/audit-record.ts";
import { isTerminal, OPEN_STATUSES } from "../core/run/run-state.ts";
import { auditFilePath } from "../audit/audit-path.ts";
import { writeJsonAtomic } from "../audit/write-audit-file.ts";
import { redactText } from "../exec/redact.ts";
import type { RunStore, StoredRun } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";
import { systemClock, type Clock } from "../ports/clock.ts";
import { setNewest } from "../core/bounded-map.ts";

/** How much of a file's end holds its `hash` (the last member of a sealed record as written). */
const TAIL_BYTES = 512;

/**
 * Whether the file at `path` is the final record sealed as `hash`: a file written while the run
 * went on, by a process that then missed its end, is not.
 */
async function finalOnDisk(path: string, hash: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "r");
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(TAIL_BYTES, size));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return tail.toString("utf8").includes(`"hash": "${hash}"`);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

const RETRY_MS = 2000;
/** Final records this process wrote, kept for the callers that wait for them (`settle`, `recordOf`). */
const RECENT_FINALS = 1024;
/** Sealed runs looked at per store read while filling in what LOGS_DIR lacks. */
const SEALED_BATCH = 500;
/** Files looked at in parallel. */
const CHECK_PARALLEL = 32;
/**
 * `<LOGS_DIR>/.audit-written.json`: per SOP, the seq up to which every sealed record has its final
 * file in this LOGS_DIR, so a start looks only past it instead of at every run ever sealed. Dotted,
 * so `sop audit verify` never takes it for a record.
 */
const MARKS_FILE = ".audit-written.json";

/** The record of a run as it stands (redacted): what is sealed when it ends. */
export function buildRecord(stored: StoredRun, secretValues: string[]): AuditRecord {
  const { inputVars, outputVars } = stored.run;
  const secrets = [...secretValues, ...secretNamedValues({ ...inputVars, ...outputVars })];
  return auditRecord(stored.definition, stored.run, (t) => redactText(t, secrets));
}

/** A run as its writer just stored it, with its sealed record once it ended. */
export interface KnownRun {
  stored: StoredRun;
  sealed?: AuditRecord | undefined;
}

interface WriteEntry {
  /** Changes asked for so far; a write covers those asked before it began. */
  asked: number;
  /** Some change came without the run: the next write reads the store. */
  read: boolean;
  /** Otherwise, the newest run handed over. */
  known?: KnownRun;
  done: Promise<void>;
}

const newer = (a: KnownRun | undefined, b: KnownRun): KnownRun => (a !== undefined && a.stored.run.revision > b.stored.run.revision ? a : b);

export class AuditSink {
  /** Per run, the writes under way: how many changes asked for one, and when they are all written. */
  private writing = new Map<string, WriteEntry>();
  private failing = new Map<string, string>();
  private cancelRetry: (() => void) | undefined;
  /**
   * Per run going on, a digest of the record its file got last from here: a change that leaves the
   * record as it was (where a command runs is not in it) rewrites nothing. Dropped once final.
   */
  private readonly lastWritten = new Map<string, string>();
  /** Per SOP, the seq up to which every sealed record has a file here. */
  private readonly written = new Map<string, number>();
  /** The reconcile or catch-up under way. */
  private looking: Promise<number> | undefined;
  /** Per SOP, the seq last marked in the store (`markAudited`). */
  private readonly marked = new Map<string, number>();
  /**
   * The final records this process wrote durably, newest last (at most RECENT_FINALS): a caller
   * awaiting a run it just drove here (`execute()`) finds its file written and its record without
   * reading either back. Matched by the seal's hash, so a record is never taken for another.
   */
  private readonly finals = new Map<string, AuditRecord>();
  /**
   * Per run that ended, until its final record is on disk: what `writeFinal` and `finalLanded` return. Settled
   * by the write that lands it, however many retries that takes, or given up (`giveUpWaiting`).
   */
  private readonly landing = new Map<string, { done: Promise<void>; resolve: () => void; reject: (error: Error) => void }>();
  /** Set by `giveUpWaiting`: a final record that cannot be written rejects its waiter instead of keeping it. */
  private givingUp = false;

  constructor(
    private readonly deps: {
      logsDir: string;
      store: RunStore;
      secretValues: (stored: StoredRun) => string[];
      log: Logger;
      /** False for processes that keep no audit files (a Redis `sop worker`): records are still built on request. */
      writes?: boolean;
      /** What retries wait on; default the system clock. */
      clock?: Clock;
    },
  ) {}

  /** The record of a run going on, as it stands now (redacted). */
  build(stored: StoredRun): AuditRecord {
    return buildRecord(stored, this.deps.secretValues(stored));
  }

  /**
   * The final record of a run that ended, when this process wrote its file durably (a copy);
   * undefined otherwise. A run is sealed once, so this never goes stale.
   */
  finalOf(runId: string): AuditRecord | undefined {
    const final = this.finals.get(runId);
    return final === undefined ? undefined : structuredClone(final);
  }

  /** The record as it stands: the sealed one once the run ended. */
  async recordOf(stored: StoredRun): Promise<AuditRecord> {
    const final = this.finalWritten(stored);
    if (final !== undefined) return structuredClone(final);
    if (stored.seal !== undefined) {
      const sealed = await this.deps.store.finalRecord(stored.run.id);
      if (sealed !== undefined) return sealed;
    }
    return this.build(stored);
  }

  /**
   * Ask for the run's file to be brought up to date; resolves once a write that covers this call
   * has landed (or failed, to be retried). Writes for one run never overlap, and the changes that
   * come while one is under way share the one write after it. `known` is the run as its writer
   * just stored it (with the sealed record when it ended), which saves reading it back; without
   * it the write reads the store.
   */
  update(runId: string, known?: KnownRun): Promise<void> {
    if (this.deps.writes === false) return Promise.resolve();
    const entry = this.writing.get(runId);
    if (entry) {
      entry.asked++;
      if (known === undefined) {
        entry.read = true;
        delete entry.known;
      } else if (!entry.read) {
        entry.known = newer(entry.known, known);
      }
      return entry.done;
    }
    const created: WriteEntry = { asked: 1, read: known === undefined, done: Promise.resolve(), ...(known ? { known } : {}) };
    this.writing.set(runId, created);
    created.done = (async () => {
      try {
        // Each write covers every change asked for before it began: from the store as it is
        // then, or from the newest run handed over when no change came without one.
        for (let covered = 0; covered < created.asked;) {
          covered = created.asked;
          const from = created.read ? undefined : created.known;
          created.read = false;
          delete created.known;
          await this.flush(runId, from);
        }
      } finally {
        this.writing.delete(runId);
      }
    })();
    return created.done;
  }

  /**
   * The final record of a run that ended here (`known` with its sealed record): written, and
   * resolved only once it is on disk, retries included, so that its end is announced only then
   * (whoever hears it finds the file final). Rejects when the process gives up waiting first
   * (`giveUpWaiting`); the write itself is still retried until the process closes.
   */
  writeFinal(runId: string, known: KnownRun & { sealed: AuditRecord }): Promise<void> {
    // Waited for before the write is asked: its landing settles the wait.
    const landed = this.finalLanded(runId);
    void this.update(runId, known);
    return landed;
  }

  /**
   * Until a final record of the run (which ended, here or in another process) is on disk here:
   * at once when this process wrote it already. The write is someone else's to ask for (`update`,
   * as every event of another process does). Rejects when the process gives up waiting.
   */
  finalLanded(runId: string): Promise<void> {
    if (this.deps.writes === false || this.finals.has(runId)) return Promise.resolve();
    return this.waitFor(runId);
  }

  private waitFor(runId: string): Promise<void> {
    let waiter = this.landing.get(runId);
    if (waiter === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const done = new Promise<void>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      waiter = { done, resolve, reject };
      this.landing.set(runId, waiter);
    }
    return waiter.done;
  }

  /**
   * For a process that closes: stop holding ends back for final records that cannot be written
   * (a full or unwritable LOGS_DIR may never come back). Those waiting now, and any whose write
   * fails from here on, are rejected; their ends go unannounced here (the store has the record,
   * and the next start writes the file).
   */
  giveUpWaiting(): void {
    this.givingUp = true;
    for (const [runId, cause] of this.failing) this.settleLanding(runId, new Error(`the final record of run ${runId} is not on disk: ${cause}`));
  }

  /**
   * Until the run's file holds what `stored` says: its pending write landed and, once it ended,
   * its final record is on disk (written now if this process has not written it yet).
   */
  async settle(stored: StoredRun): Promise<void> {
    if (this.deps.writes === false) return;
    const runId = stored.run.id;
    for (let under = this.writing.get(runId); under; under = this.writing.get(runId)) await under.done;
    if (stored.seal && this.finalWritten(stored) === undefined && !(await finalOnDisk(this.pathOf(stored), stored.seal.hash))) {
      // Ended, so `stored` is final: the write need not read it again.
      await this.update(runId, { stored });
    }
  }

  /**
   * Bring LOGS_DIR up to date with the store, at start: runs still going, and ended runs whose
   * final record this machine lacks (events are at most once; a process that was down, or was
   * killed between a run's end and its file, missed some): a file written while the run went on
   * does not count. Only seals past this LOGS_DIR's mark (`MARKS_FILE`) are looked at.
   */
  reconcile(): Promise<number> {
    return this.oneLook(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<number> {
    if (this.deps.writes === false) return 0;
    const heads = await this.deps.store.chainHeads();
    const marks = await this.readMarks();
    let written = 0;
    for (const run of await this.deps.store.list({ statuses: OPEN_STATUSES })) {
      await this.update(run.id);
      written++;
    }
    for (const [sop, head] of heads) {
      written += await this.writeMissing(sop, (marks.get(sop) ?? 0) + 1, head.seq);
      this.written.set(sop, Math.max(this.written.get(sop) ?? 0, head.seq));
    }
    await this.markWritten();
    return written;
  }

  /**
   * Write the final files of runs that ended since the last look and that no event told this
   * process about (disconnected from pub/sub, or the process that ended them died before it
   * said so): the chain heads say how far each SOP is. Then mark how far the files are complete,
   * here and in the store (what retention may prune up to).
   */
  catchUp(): Promise<number> {
    return this.oneLook(() => this.catchUpNow());
  }

  /**
   * One look over the store at a time: a catch-up that comes while the start's reconcile (or an
   * earlier catch-up) still reads a long history shares it instead of starting its own from seq 1.
   */
  private oneLook(work: () => Promise<number>): Promise<number> {
    this.looking ??= work().finally(() => {
      this.looking = undefined;
    });
    return this.looking;
  }

  private async catchUpNow(): Promise<number> {
    if (this.deps.writes === false) return 0;
    let written = 0;
    for (const [sop, head] of await this.deps.store.chainHeads()) {
      const from = (this.written.get(sop) ?? 0) + 1;
      if (head.seq < from) continue;
      written += await this.writeMissing(sop, from, head.seq);
      this.written.set(sop, head.seq);
    }
    if (written > 0) this.deps.log.info({ written }, `audit: wrote ${written} final record(s) that no event had brought`);
    await this.markWritten();
    return written;
  }

  /** Writes the final files of the SOP's sealed runs `from`…`to` that this LOGS_DIR lacks. */
  private async writeMissing(sop: string, from: number, to: number): Promise<number> {
    let written = 0;
    for (let start = from; start <= to; start += SEALED_BATCH) {
      const sealed = await this.deps.store.sealedRuns(sop, start, Math.min(to, start + SEALED_BATCH - 1));
      for (let i = 0; i < sealed.length; i += CHECK_PARALLEL) {
        const missing = await Promise.all(sealed.slice(i, i + CHECK_PARALLEL).map(async ({ runId }) => {
          const stored = await this.deps.store.get(runId);
          return stored !== undefined && !(stored.seal && (await finalOnDisk(this.pathOf(stored), stored.seal.hash))) ? stored : undefined;
        }));
        for (const stored of missing) {
          if (stored === undefined) continue;
          // Sealed, so what was just read is final: the write need not read it again.
          await this.update(stored.run.id, { stored });
          written++;
        }
      }
    }
    return written;
  }

  /**
   * Once every write asked for has landed (none failing), `written` is true of the disk: keep it
   * in LOGS_DIR for the next start, and tell the store, whose prune removes nothing past it.
   */
  private async markWritten(): Promise<void> {
    // The writes under way now, not every later one too: under steady load those never run out.
    await Promise.all([...this.writing.values()].map((w) => w.done));
    if (this.failing.size > 0) return;
    const changed = [...this.written].filter(([sop, seq]) => (this.marked.get(sop) ?? 0) < seq);
    if (changed.length === 0) return;
    const marks = await this.readMarks();
    for (const [sop, seq] of this.written) marks.set(sop, Math.max(marks.get(sop) ?? 0, seq));
    await writeJsonAtomic(join(this.deps.logsDir, MARKS_FILE), Object.fromEntries(marks), { what: "audit marks", durable: false });
    for (const [sop, seq] of changed) {
      await this.deps.store.markAudited(sop, seq);
      this.marked.set(sop, seq);
    }
  }

  private async readMarks(): Promise<Map<string, number>> {
    const path = join(this.deps.logsDir, MARKS_FILE);
    try {
      const value = JSON.parse(await readFile(path, "utf8")) as unknown;
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
      return new Map(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1])));
    } catch (err) {
      // Without marks every sealed run is looked at once: slower, never wrong.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.deps.log.warn({ err, path }, `audit: cannot read ${path}; every sealed record is checked instead`);
      return new Map();
    }
  }

  /** Wait for every pending write. */
  async drain(): Promise<void> {
    while (this.writing.size > 0) await Promise.all([...this.writing.values()].map((w) => w.done));
  }

  close(): void {
    this.cancelRetry?.();
  }

  private pathOf(stored: StoredRun): string {
    const { run } = stored;
    return auditFilePath(this.deps.logsDir, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
  }

  private async flush(runId: string, known?: KnownRun): Promise<void> {
    try {
      const stored = known?.stored ?? (await this.deps.store.get(runId));
      if (!stored) return;
      // The file is named after the run's start: a queued run gets none until it starts (or ends
      // without starting, when its acceptance time names it).
      if (stored.run.startedAt === undefined && !isTerminal(stored.run.status)) return;
      const path = this.pathOf(stored);
      // The store is the truth while a run goes on; the final record is the one that must last.
      const record = known?.sealed ?? (await this.recordOf(stored));
      const final = isTerminal(stored.run.status);
      const digest = final ? undefined : createHash("sha1").update(JSON.stringify(record)).digest("hex");
      if (digest !== undefined && this.lastWritten.get(runId) === digest) return;
      await writeJsonAtomic(path, record, { what: "audit file", durable: final });
      if (digest === undefined) {
        this.lastWritten.delete(runId);
        if (stored.seal !== undefined && record.hash === stored.seal.hash) this.rememberFinal(runId, record);
        this.settleLanding(runId);
      } else {
        this.lastWritten.set(runId, digest);
      }
      if (this.failing.delete(runId)) this.deps.log.info({ runId, path }, "audit file written after earlier failures");
    } catch (err) {
      // A store that cannot be read (an outage) is retried like a disk that cannot be written.
      const cause = (err as Error).message;
      if (![...this.failing.values()].includes(cause)) this.deps.log.error({ runId, err }, `audit: ${cause}; the run goes on and the write is retried`);
      this.failing.set(runId, cause);
      if (this.givingUp) this.settleLanding(runId, new Error(`the final record of run ${runId} is not on disk: ${cause}`));
      this.scheduleRetry();
    }
  }

  /** The final record of this sealed run, when this process wrote its file. */
  private finalWritten(stored: StoredRun): AuditRecord | undefined {
    const final = stored.seal === undefined ? undefined : this.finals.get(stored.run.id);
    return final !== undefined && final.hash === stored.seal?.hash ? final : undefined;
  }

  /** Resolves (or, with an error, rejects) whoever waits for the run's final record to land. */
  private settleLanding(runId: string, error?: Error): void {
    const waiter = this.landing.get(runId);
    if (waiter === undefined) return;
    this.landing.delete(runId);
    if (error === undefined) waiter.resolve();
    else waiter.reject(error);
  }

  private rememberFinal(runId: string, record: AuditRecord): void {
    setNewest(this.finals, runId, record, RECENT_FINALS);
  }

  private scheduleRetry(): void {
    if (this.cancelRetry) return;
    this.cancelRetry = (this.deps.clock ?? systemClock).schedule(() => {
      this.cancelRetry = undefined;
      for (const runId of this.failing.keys()) void this.update(runId);
    }, RETRY_MS);
  }
}
