import { chmod, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../../audit/write-audit-file.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import { nextDeadline } from "../../core/run/apply-event.ts";
import { isActive, isTerminal, type RunState, type RunStatus } from "../../core/run/run-state.ts";
import type { Priority } from "../../core/sop/types.ts";
import type {
  Admission, ChainHead, Claim, RunEnding, RunFilter, RunStore, StoredRun, UpdateOutcome,
} from "../../ports/run-store.ts";
import { assertFileName, checkHead, checkRun } from "./stored-run-checks.ts";

const GENESIS: ChainHead = { seq: 0, hash: "0".repeat(64) };
const LINE_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const READ_BATCH = 64;

export interface FileRunStoreOptions {
  /** Told about each file that could not be read and was moved aside. */
  onProblem?: (message: string) => void;
  /**
   * Read what is there and refuse every change: for commands that only look (`sop status`), which
   * need not wait for the process holding DATA_DIR. Nothing is moved aside or cleaned up.
   */
  readOnly?: boolean;
}

interface SopIndex {
  runs: Set<string>;
  /** Queued runs: the line. */
  waiting: Set<string>;
  /** Runs that run or wait for a person: each holds one of the SOP's slots. */
  active: Set<string>;
  /** Queued runs refused a slot: whom a run that ends nudges (memory only; after a restart the sweep finds them). */
  blocked: Set<string>;
  /** Sealed runs by their seq in the SOP's chain. */
  sealed: Map<number, string>;
  /** Latest `queuedAt` of any run of the SOP, ended ones too: the cooldown's start. */
  lastAcceptance?: number;
}

/** What a run file holds: the stored run and, once it ended, its sealed record. */
interface RunFile extends StoredRun {
  record?: AuditRecord;
}

interface WriteSlot {
  tail: Promise<void>;
  /** A write that has not started yet; it will write whatever memory holds when it starts. */
  queued?: Promise<void> | undefined;
}

/**
 * The local `RunStore`: one JSON file per run under `<dataDir>/runs` (readable by its owner only:
 * run state holds the variables commands need), the audit chain heads under `<dataDir>/chain`,
 * everything else (cooldowns, slots, the line, the chain's index) derived from the runs. Claims
 * live in memory: one process holds DATA_DIR (`lockDataDir`), so a claim of a process that is
 * gone means nothing.
 *
 * Memory answers every read. Each method checks and changes memory synchronously, before its
 * first `await`, so concurrent calls in one process cannot interleave between the check and the
 * change; then it waits for the write.
 */
export class FileRunStore implements RunStore {
  readonly problems: string[] = [];
  private readonly runs = new Map<string, RunFile>();
  private readonly sops = new Map<string, SopIndex>();
  private readonly heads = new Map<string, ChainHead>();
  /** The heads whose run files are written: what the head files may say (never a head before its run). */
  private readonly writtenHeads = new Map<string, ChainHead>();
  /** A write failed: memory is ahead of the files, so nothing more may change until a restart reads them again. */
  private broken: Error | undefined;
  private readonly claimed = new Map<string, Claim>();
  /** Runs going on that have a deadline, by their earliest one. */
  private readonly deadlines = new Map<string, number>();
  private readonly writes = new Map<string, WriteSlot>();
  private closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly options: FileRunStoreOptions,
  ) {}

  static async open(dataDir: string, options: FileRunStoreOptions = {}): Promise<FileRunStore> {
    const store = new FileRunStore(resolve(dataDir), options);
    await store.load();
    return store;
  }

  async admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission> {
    this.assertWritable();
    const { id, sop } = stored.run;
    assertFileName("run id", id);
    assertFileName("SOP name", sop);
    if (this.runs.has(id)) throw new Error(`cannot admit run ${id}: a run with that id already exists`);
    const remainingMs = this.cooldownMs(sop, opts.cooldownSecs, opts.now);
    if (remainingMs > 0 && !opts.force) return { accepted: false, reason: "cooldown", retryAfterSecs: Math.ceil(remainingMs / 1000) };
    this.put(structuredClone(stored));
    await this.persistRun(id);
    return { accepted: true };
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    const file = this.runs.get(runId);
    if (file === undefined) return undefined;
    const { record: _record, ...stored } = file;
    return structuredClone(stored);
  }

  async update(runId: string, expectedRevision: number, next: RunState, ending?: RunEnding): Promise<UpdateOutcome> {
    this.assertWritable();
    const current = this.runs.get(runId);
    if (current === undefined || current.run.revision !== expectedRevision) return { ok: false, why: "revision" };
    if (next.id !== runId || next.sop !== current.run.sop) {
      throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    }
    const { sop } = next;
    const index = this.indexOf(sop);
    const was = current.run.status;
    if (was === "queued" && isActive(next.status) && !this.mayStart(current)) {
      index.blocked.add(runId);
      return { ok: false, why: "no_slot" };
    }
    // Set exactly when this update ends the run.
    let sealing: RunEnding | undefined;
    if (isTerminal(next.status) && !isTerminal(was)) {
      if (ending === undefined) throw new Error(`cannot end run ${runId} without its seal`);
      sealing = ending;
    }
    const head = this.heads.get(sop) ?? GENESIS;
    if (sealing && (sealing.seal.seq !== head.seq + 1 || sealing.seal.prevHash !== head.hash)) return { ok: false, why: "chain", head: { ...head } };

    const file: RunFile = { ...current, run: structuredClone(next) };
    if (sealing) {
      const { seal, record } = sealing;
      Object.assign(file, { seal: { ...seal }, record: structuredClone(record) });
      this.heads.set(sop, { seq: seal.seq, hash: seal.hash, runId });
      index.sealed.set(seal.seq, runId);
    }
    this.put(file);
    if (next.status !== "queued") index.blocked.delete(runId);
    const startable = sealing ? this.unblock(sop, file.definition.maxConcurrent) : [];
    // The run file carries the seal, so it is written first: a crash before the head's own file
    // is written loses nothing (loading takes the head from the newest seal too).
    await this.persistRun(runId);
    if (sealing) {
      const { seal } = sealing;
      const written = this.writtenHeads.get(sop);
      if (written === undefined || written.seq < seal.seq) this.writtenHeads.set(sop, { seq: seal.seq, hash: seal.hash, runId });
      await this.persistHead(sop);
    }
    return { ok: true, startable };
  }

  async list(filter: RunFilter = {}): Promise<RunState[]> {
    const ids = filter.sop === undefined ? this.runs.keys() : (this.sops.get(filter.sop)?.runs ?? []);
    const found: RunState[] = [];
    for (const id of ids) {
      const run = this.runs.get(id)?.run;
      if (run === undefined || (filter.statuses !== undefined && !filter.statuses.includes(run.status))) continue;
      found.push(structuredClone(run));
    }
    return found.sort((a, b) => a.queuedAt - b.queuedAt || compareIds(a.id, b.id));
  }

  async count(sop: string, statuses: readonly RunStatus[]): Promise<number> {
    const index = this.sops.get(sop);
    if (index === undefined) return 0;
    // The indexes of runs going on are small; only a count of ended runs reads them all.
    const ids = statuses.every((s) => s === "queued") ? index.waiting : statuses.every(isActive) ? index.active : index.runs;
    let n = 0;
    for (const id of ids) {
      const status = this.runs.get(id)?.run.status;
      if (status !== undefined && statuses.includes(status)) n++;
    }
    return n;
  }

  async startable(sop: string): Promise<string[]> {
    return this.startableNow(sop);
  }

  async overdue(now: number): Promise<string[]> {
    return [...this.deadlines].filter(([, at]) => at <= now).map(([id]) => id);
  }

  async cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number> {
    return Math.ceil(this.cooldownMs(sop, cooldownSecs, now) / 1000);
  }

  async claim(runId: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    this.assertWritable();
    const held = this.claimed.get(runId);
    if (held !== undefined && held.owner !== owner && held.until > now) return false;
    this.claimed.set(runId, { owner, until: now + ttlMs });
    return true;
  }

  async unclaim(runId: string, owner: string): Promise<void> {
    if (this.claimed.get(runId)?.owner === owner) this.claimed.delete(runId);
  }

  async claims(runIds: readonly string[]): Promise<Map<string, Claim>> {
    const found = new Map<string, Claim>();
    for (const id of runIds) {
      const claim = this.claimed.get(id);
      if (claim !== undefined) found.set(id, { ...claim });
    }
    return found;
  }

  async chainHead(sop: string): Promise<ChainHead> {
    return { ...(this.heads.get(sop) ?? GENESIS) };
  }

  async chainHeads(): Promise<Map<string, ChainHead>> {
    return new Map([...this.heads].map(([sop, head]) => [sop, { ...head }]));
  }

  async finalRecord(runId: string): Promise<AuditRecord | undefined> {
    const record = this.runs.get(runId)?.record;
    return record === undefined ? undefined : structuredClone(record);
  }

  async sealedRuns(sop: string, fromSeq: number, toSeq: number): Promise<{ seq: number; runId: string }[]> {
    const sealed = this.sops.get(sop)?.sealed;
    const found: { seq: number; runId: string }[] = [];
    for (let seq = Math.max(1, fromSeq); sealed !== undefined && seq <= toSeq; seq++) {
      const runId = sealed.get(seq);
      if (runId !== undefined) found.push({ seq, runId });
    }
    return found;
  }

  /** Waits for every pending write; later changes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writes.size > 0) await Promise.all([...this.writes.values()].map((slot) => slot.tail));
  }

  private assertWritable(): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw new Error(`the run store in ${this.dataDir} is closed`);
    if (this.options.readOnly) throw new Error(`the run store in ${this.dataDir} was opened read-only`);
  }

  private indexOf(sop: string): SopIndex {
    let index = this.sops.get(sop);
    if (index === undefined) this.sops.set(sop, (index = { runs: new Set(), waiting: new Set(), active: new Set(), blocked: new Set(), sealed: new Map() }));
    return index;
  }

  // Runs are never deleted, so replacing one is: drop it from the indexes, store, index again.
  private put(file: RunFile): void {
    const { id, sop, status, queuedAt } = file.run;
    const index = this.indexOf(sop);
    index.waiting.delete(id);
    index.active.delete(id);
    this.runs.set(id, file);
    index.runs.add(id);
    if (status === "queued") index.waiting.add(id);
    else if (isActive(status)) index.active.add(id);
    const deadline = nextDeadline(file.run);
    if (deadline === undefined) this.deadlines.delete(id);
    else this.deadlines.set(id, deadline);
    if (index.lastAcceptance === undefined || queuedAt > index.lastAcceptance) index.lastAcceptance = queuedAt;
  }

  /** With k slots free, the first k of the line may start: the line order still decides who. */
  private mayStart(file: RunFile): boolean {
    const index = this.indexOf(file.run.sop);
    const free = file.definition.maxConcurrent - index.active.size;
    if (free <= 0) return false;
    let ahead = 0;
    for (const otherId of index.waiting) {
      const other = this.runs.get(otherId);
      if (other !== undefined && compareLine(other.run, file.run) < 0 && ++ahead >= free) return false;
    }
    return true;
  }

  /**
   * With k slots free (by the ending run's definition), the first k runs that were refused one:
   * runs that never tried have a job of their own on the way, so a run ending never nudges, nor
   * sorts, the whole line.
   */
  private unblock(sop: string, maxConcurrent: number): string[] {
    const index = this.indexOf(sop);
    const free = maxConcurrent - index.active.size;
    if (free <= 0 || index.blocked.size === 0) return [];
    const blocked = [...index.blocked].flatMap((id) => this.runs.get(id)?.run ?? []).sort(compareLine);
    const chosen = blocked.slice(0, free).map((run) => run.id);
    for (const id of chosen) index.blocked.delete(id);
    return chosen;
  }

  private startableNow(sop: string): string[] {
    const line = this.line(sop);
    const first = line[0] === undefined ? undefined : this.runs.get(line[0]);
    if (first === undefined) return [];
    const free = first.definition.maxConcurrent - this.indexOf(sop).active.size;
    return free > 0 ? line.slice(0, free) : [];
  }

  private line(sop: string): string[] {
    const waiting = [...(this.sops.get(sop)?.waiting ?? [])].flatMap((id) => this.runs.get(id)?.run ?? []);
    return waiting.sort(compareLine).map((run) => run.id);
  }

  private cooldownMs(sop: string, cooldownSecs: number, now: number): number {
    const last = this.sops.get(sop)?.lastAcceptance;
    if (last === undefined || cooldownSecs <= 0) return 0;
    return Math.max(0, last + cooldownSecs * 1000 - now);
  }

  private persistRun(runId: string): Promise<void> {
    return this.persist(`run:${runId}`, join(this.dataDir, "runs", `${runId}.json`), "run state", () => this.runs.get(runId));
  }

  private persistHead(sop: string): Promise<void> {
    assertFileName("SOP name", sop);
    return this.persist(`chain:${sop}`, join(this.dataDir, "chain", `${sop}.json`), "audit chain head", () => this.writtenHeads.get(sop));
  }

  // One chain of writes per file, so an older write never lands after a newer one. A write reads
  // memory when it starts, so changes made while it waits share it instead of queueing more.
  private persist(key: string, path: string, what: string, value: () => unknown): Promise<void> {
    const slot: WriteSlot = this.writes.get(key) ?? { tail: Promise.resolve() };
    if (slot.queued !== undefined) return slot.queued;
    const write = slot.tail.then(async () => {
      slot.queued = undefined;
      try {
        await writeJsonAtomic(path, value(), { what, private: true });
      } catch (error) {
        // Memory already holds the change (others may have read it); the files do not. Refuse
        // every further change: the next start reads the files, which are whole and consistent.
        this.broken ??= new Error(`the run store in ${this.dataDir} stopped taking changes: ${(error as Error).message}. Fix the cause and restart; the runs go on from what is on disk`, { cause: error });
        throw error;
      }
    });
    const tail: Promise<void> = write.then(
      () => this.forget(key, slot, tail),
      () => this.forget(key, slot, tail),
    );
    slot.queued = write;
    slot.tail = tail;
    this.writes.set(key, slot);
    return write;
  }

  private forget(key: string, slot: WriteSlot, tail: Promise<void>): void {
    if (slot.tail === tail && this.writes.get(key) === slot) this.writes.delete(key);
  }

  private async load(): Promise<void> {
    const runsDir = join(this.dataDir, "runs");
    const chainDir = join(this.dataDir, "chain");
    const runFiles = await this.listJson(runsDir);
    for (let i = 0; i < runFiles.length; i += READ_BATCH) {
      const batch = runFiles.slice(i, i + READ_BATCH);
      const loaded = await Promise.all(batch.map((name) => this.readValid(join(runsDir, name), "run state", (v) => checkRun(v, name))));
      for (const file of loaded) if (file !== undefined) this.put(withoutLegacyFields(file));
    }
    for (const { seal, run } of this.runs.values()) {
      if (seal === undefined) continue;
      this.indexOf(run.sop).sealed.set(seal.seq, run.id);
      if (seal.seq > (this.heads.get(run.sop)?.seq ?? 0)) this.heads.set(run.sop, { seq: seal.seq, hash: seal.hash, runId: run.id });
    }
    for (const name of await this.listJson(chainDir)) {
      const sop = name.slice(0, -".json".length);
      const head = await this.readValid(join(chainDir, name), "audit chain head", checkHead);
      if (head !== undefined && head.seq > (this.heads.get(sop)?.seq ?? 0)) this.heads.set(sop, head);
    }
    for (const [sop, head] of this.heads) this.writtenHeads.set(sop, { ...head });
  }

  /** Names of the `.json` files in `dir`, after removing the temp files an interrupted write left. */
  private async listJson(dir: string): Promise<string[]> {
    let names: string[];
    if (this.options.readOnly) {
      names = await readdir(dir).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw error;
      });
    } else {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Folders made by older versions were world-readable; the run files may hold secrets.
      await chmod(dir, 0o700).catch(() => undefined);
      names = await readdir(dir);
      await Promise.all(names.filter((n) => n.startsWith(".") && n.endsWith(".tmp")).map((n) => rm(join(dir, n), { force: true })));
    }
    return names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  }

  private async readValid<T>(path: string, what: string, check: (value: unknown) => T | string): Promise<T | undefined> {
    let result: T | string;
    try {
      result = check(JSON.parse(await readFile(path, "utf8")) as unknown);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = error instanceof SyntaxError ? `not valid JSON (${message})` : message;
    }
    if (typeof result !== "string") return result;
    if (this.options.readOnly) {
      this.report(`${path}: cannot read ${what}: ${result}; left as it is`);
      return undefined;
    }
    let fate = `the file was moved to ${path}.corrupt`;
    await rename(path, `${path}.corrupt`).catch((error: unknown) => {
      fate = `moving it to ${path}.corrupt failed (${error instanceof Error ? error.message : String(error)}); move or delete it`;
    });
    this.report(`${path}: cannot read ${what}: ${result}; ${fate}`);
    return undefined;
  }

  private report(message: string): void {
    this.problems.push(message);
    this.options.onProblem?.(message);
  }
}

/** Files written by earlier versions carried a `holdsSlot` flag; slots now follow the status. */
function withoutLegacyFields(file: RunFile & { holdsSlot?: unknown }): RunFile {
  const { holdsSlot: _legacy, ...rest } = file;
  return rest;
}

/** Line order: higher priority first, then earlier, then by id so the order is total. */
function compareLine(a: RunState, b: RunState): number {
  return LINE_RANK[a.priority] - LINE_RANK[b.priority] || a.queuedAt - b.queuedAt || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
