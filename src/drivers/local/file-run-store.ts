import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../../audit/write-audit-file.ts";
import type { RunState } from "../../core/run/run-state.ts";
import type { Priority } from "../../core/sop/types.ts";
import type { Admission, ChainHead, RunFilter, RunStore, Seal, StoredRun } from "../../ports/run-store.ts";
import { assertFileName, checkHead, checkRun } from "./stored-run-checks.ts";

const GENESIS: ChainHead = { seq: 0, hash: "0".repeat(64) };
const LINE_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const READ_BATCH = 64;

export interface FileRunStoreOptions {
  /** Told about each file that could not be read and was moved aside. */
  onProblem?: (message: string) => void;
}

interface SopIndex {
  runs: Set<string>;
  /** Queued runs without a slot: the line. */
  waiting: Set<string>;
  slots: Set<string>;
  /** Queued runs whose start was refused for want of a slot: whom a release nudges. */
  blocked: Set<string>;
  /** Latest `queuedAt` of any run of the SOP, ended ones too: the cooldown's start. */
  lastAcceptance?: number;
}

interface WriteSlot {
  tail: Promise<void>;
  /** A write that has not started yet; it will write whatever memory holds when it starts. */
  queued?: Promise<void> | undefined;
}

/**
 * The local `RunStore`: one JSON file per run under `<dataDir>/runs`, the audit chain heads under
 * `<dataDir>/chain`, everything else (cooldowns, slots, the line) derived from the runs.
 *
 * Memory answers every read. Each method checks and changes memory synchronously, before its
 * first `await`, so concurrent calls in one process cannot interleave between the check and the
 * change; then it waits for the write. Other processes are kept out by `lockDataDir`.
 */
export class FileRunStore implements RunStore {
  readonly problems: string[] = [];
  private readonly runs = new Map<string, StoredRun>();
  private readonly sops = new Map<string, SopIndex>();
  private readonly heads = new Map<string, ChainHead>();
  private readonly writes = new Map<string, WriteSlot>();
  private closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly onProblem: ((message: string) => void) | undefined,
  ) {}

  static async open(dataDir: string, options: FileRunStoreOptions = {}): Promise<FileRunStore> {
    const store = new FileRunStore(resolve(dataDir), options.onProblem);
    await store.load();
    return store;
  }

  async admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission> {
    this.assertOpen();
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
    const stored = this.runs.get(runId);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  async update(runId: string, expectedRevision: number, next: RunState): Promise<boolean> {
    this.assertOpen();
    const current = this.runs.get(runId);
    if (current === undefined || current.run.revision !== expectedRevision) return false;
    if (next.id !== runId || next.sop !== current.run.sop) {
      throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    }
    this.put({ ...current, run: structuredClone(next) });
    await this.persistRun(runId);
    return true;
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

  async tryStart(runId: string, maxConcurrent: number): Promise<boolean> {
    this.assertOpen();
    const stored = this.runs.get(runId);
    if (stored === undefined) return false;
    if (stored.holdsSlot) return true;
    if (stored.run.status !== "queued") return false;
    // With k slots free, the first k of the line may start: the line order still decides who.
    const index = this.indexOf(stored.run.sop);
    const free = maxConcurrent - index.slots.size;
    let ahead = 0;
    for (const otherId of free > 0 ? index.waiting : []) {
      const other = this.runs.get(otherId);
      if (other !== undefined && compareLine(other.run, stored.run) < 0) ahead++;
    }
    if (free <= 0 || ahead >= free) {
      index.blocked.add(runId);
      return false;
    }
    index.blocked.delete(runId);
    this.put({ ...stored, holdsSlot: true });
    await this.persistRun(runId);
    return true;
  }

  async release(runId: string, maxConcurrent: number): Promise<string[]> {
    this.assertOpen();
    const stored = this.runs.get(runId);
    if (stored === undefined) return [];
    const changed = stored.holdsSlot;
    if (changed) this.put({ ...stored, holdsSlot: false });
    const index = this.indexOf(stored.run.sop);
    // Back in line, and nudged: its job already ran and will not look again by itself.
    if (changed && stored.run.status === "queued") index.blocked.add(runId);
    const free = maxConcurrent - index.slots.size;
    const line = free > 0 ? this.line(stored.run.sop).filter((id) => index.blocked.has(id)).slice(0, free) : [];
    for (const id of line) index.blocked.delete(id);
    if (changed) await this.persistRun(runId);
    return line;
  }

  async cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number> {
    return Math.ceil(this.cooldownMs(sop, cooldownSecs, now) / 1000);
  }

  async chainHead(sop: string): Promise<ChainHead> {
    return { ...(this.heads.get(sop) ?? GENESIS) };
  }

  async advanceChain(sop: string, expected: ChainHead, next: ChainHead): Promise<boolean> {
    this.assertOpen();
    assertFileName("SOP name", sop);
    const current = this.heads.get(sop) ?? GENESIS;
    if (current.seq !== expected.seq || current.hash !== expected.hash) return false;
    this.heads.set(sop, { ...next });
    // The head has its own file because the engine moves it before it seals the run: a crash
    // in between must not lose the head, or the next seal would reuse its seq.
    await this.persist(`chain:${sop}`, join(this.dataDir, "chain", `${sop}.json`), "audit chain head", () => this.heads.get(sop));
    return true;
  }

  async setSeal(runId: string, seal: Seal): Promise<void> {
    this.assertOpen();
    const stored = this.runs.get(runId);
    if (stored === undefined) throw new Error(`cannot seal run ${runId}: the store has no such run`);
    this.put({ ...stored, seal: { ...seal } });
    await this.persistRun(runId);
  }

  async chainHeads(): Promise<Map<string, ChainHead>> {
    return new Map([...this.heads].map(([sop, head]) => [sop, { ...head }]));
  }

  /** Waits for every pending write; later changes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writes.size > 0) await Promise.all([...this.writes.values()].map((slot) => slot.tail));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the run store in ${this.dataDir} is closed`);
  }

  private indexOf(sop: string): SopIndex {
    let index = this.sops.get(sop);
    if (index === undefined) this.sops.set(sop, (index = { runs: new Set(), waiting: new Set(), slots: new Set(), blocked: new Set() }));
    return index;
  }

  // Runs are never deleted, so replacing one is: drop it from the indexes, store, index again.
  private put(stored: StoredRun): void {
    const { id, sop, status, queuedAt } = stored.run;
    const index = this.indexOf(sop);
    index.waiting.delete(id);
    index.slots.delete(id);
    this.runs.set(id, stored);
    index.runs.add(id);
    if (stored.holdsSlot) index.slots.add(id);
    else if (status === "queued") index.waiting.add(id);
    if (index.lastAcceptance === undefined || queuedAt > index.lastAcceptance) index.lastAcceptance = queuedAt;
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

  // One chain of writes per file, so an older write never lands after a newer one. A write reads
  // memory when it starts, so changes made while it waits share it instead of queueing more.
  private persist(key: string, path: string, what: string, value: () => unknown): Promise<void> {
    const slot: WriteSlot = this.writes.get(key) ?? { tail: Promise.resolve() };
    if (slot.queued !== undefined) return slot.queued;
    const write = slot.tail.then(() => {
      slot.queued = undefined;
      return writeJsonAtomic(path, value(), { what });
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
      for (const stored of loaded) if (stored !== undefined) this.put({ ...stored, holdsSlot: stored.holdsSlot === true });
    }
    for (const stored of this.runs.values()) {
      const { seal, run } = stored;
      if (seal !== undefined && seal.seq > (this.heads.get(run.sop)?.seq ?? 0)) {
        this.heads.set(run.sop, { seq: seal.seq, hash: seal.hash, runId: run.id, prevHash: seal.prevHash });
      }
    }
    for (const name of await this.listJson(chainDir)) {
      const sop = name.slice(0, -".json".length);
      const head = await this.readValid(join(chainDir, name), "audit chain head", checkHead);
      if (head !== undefined && head.seq > (this.heads.get(sop)?.seq ?? 0)) this.heads.set(sop, head);
    }
  }

  /** Names of the `.json` files in `dir`, after removing the temp files an interrupted write left. */
  private async listJson(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    await Promise.all(names.filter((n) => n.startsWith(".") && n.endsWith(".tmp")).map((n) => rm(join(dir, n), { force: true })));
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
    let fate = `the file was moved to ${path}.corrupt`;
    await rename(path, `${path}.corrupt`).catch((error: unknown) => {
      fate = `moving it to ${path}.corrupt failed (${error instanceof Error ? error.message : String(error)}); move or delete it`;
    });
    this.report(`${path}: cannot read ${what}: ${result}; ${fate}`);
    return undefined;
  }

  private report(message: string): void {
    this.problems.push(message);
    this.onProblem?.(message);
  }
}

/** Line order: higher priority first, then earlier, then by id so the order is total. */
function compareLine(a: RunState, b: RunState): number {
  return LINE_RANK[a.priority] - LINE_RANK[b.priority] || a.queuedAt - b.queuedAt || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
