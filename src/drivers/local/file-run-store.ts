import { chmod, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../../audit/write-audit-file.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import { nextDeadline } from "../../core/run/apply-event.ts";
import { decodeCursor, encodeCursor, type RunPlace } from "../../core/run/run-cursor.ts";
import { isActive, isTerminal, type RunState, type RunStatus } from "../../core/run/run-state.ts";
import type { Priority } from "../../core/sop/types.ts";
import type { Platform } from "../../ports/message-ledger.ts";
import type {
  Admission, ChainHead, Claim, ClaimWrite, PruneQuery, RunEnding, RunFilter, RunPage, RunPageQuery, RunStore, StoredRun, UpdateOutcome,
} from "../../ports/run-store.ts";
import type { EndedSummary } from "./ended-index.ts";
import { EndedRuns, summaryOf, withoutLegacyFields, type RunFile } from "./ended-runs.ts";
import { HistoryMarks } from "./history-marks.ts";
import { HistoryOrder } from "./history-order.ts";
import { assertFileName, checkHead, checkRun } from "./stored-run-checks.ts";

const GENESIS: ChainHead = { seq: 0, hash: "0".repeat(64) };
const LINE_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const READ_BATCH = 64;
const CHAT_PLATFORMS: readonly Platform[] = ["slack", "discord"];

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
  /** The SOP's runs in history order. */
  order: HistoryOrder;
  /** Queued runs: the line. */
  waiting: Set<string>;
  /** Runs that run or wait for a person: each holds one of the SOP's slots. */
  active: Set<string>;
  /** How many ended runs it has, by status: counts without going through every run. */
  endedCounts: Map<RunStatus, number>;
  /** Queued runs refused a slot: whom a run that ends nudges (memory only; after a restart the sweep finds them). */
  blocked: Set<string>;
  /** Sealed runs by their seq in the SOP's chain. */
  sealed: Map<number, string>;
  /** Latest `queuedAt` of any run of the SOP, ended ones too: the cooldown's start. */
  lastAcceptance?: number;
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
 * Memory holds the runs going on whole, and of each ended run only a summary (`EndedRun`): its
 * file is read when asked for (a few hundred stay cached), and a start reads `runs.index` (see
 * `EndedIndexFile`) instead of every ended run's file. Each method checks and changes memory
 * synchronously, before its first `await` (or right after reading an ended run's file), so
 * concurrent calls in one process cannot interleave between the check and the change; then it
 * waits for the write.
 */
export class FileRunStore implements RunStore {
  readonly problems: string[] = [];
  /** Runs going on, whole. */
  private readonly runs = new Map<string, RunFile>();
  private readonly ended: EndedRuns;
  private readonly order = new HistoryOrder();
  private readonly marks: HistoryMarks;
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
  ) {
    this.marks = new HistoryMarks(join(dataDir, "marks.json"));
    this.ended = new EndedRuns(join(dataDir, "runs"), join(dataDir, "runs.index"), (m) => this.report(m));
  }

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
    if (this.runs.has(id) || this.ended.has(id)) throw new Error(`cannot admit run ${id}: a run with that id already exists`);
    const remainingMs = this.cooldownMs(sop, opts.cooldownSecs, opts.now);
    if (remainingMs > 0 && !opts.force) return { accepted: false, reason: "cooldown", retryAfterSecs: Math.ceil(remainingMs / 1000) };
    this.put(structuredClone(stored));
    await this.persistRun(id);
    return { accepted: true };
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    const file = this.runs.get(runId) ?? (await this.ended.read(runId));
    if (file === undefined) return undefined;
    const { record: _record, ...stored } = file;
    return structuredClone(stored);
  }

  async update(runId: string, expectedRevision: number, next: RunState, ending?: RunEnding, claim?: ClaimWrite): Promise<UpdateOutcome> {
    this.assertWritable();
    let current = this.runs.get(runId);
    if (current === undefined && this.ended.has(runId)) {
      await this.ended.read(runId);
      this.assertWritable();
      // Read again after the wait: another change may have replaced the file meanwhile.
      current = this.ended.cached(runId);
    }
    if (current === undefined || current.run.revision !== expectedRevision) return { ok: false, why: "revision" };
    if (isTerminal(current.run.status) && !isTerminal(next.status)) {
      throw new Error(`cannot update run ${runId}: it ended (${current.run.status}) and cannot become ${next.status}`);
    }
    if (next.id !== runId || next.sop !== current.run.sop) {
      throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    }
    // Before any other check that writes (a refused start joins "blocked"): a refusal changes nothing.
    if (claim !== undefined && !this.mayClaim(runId, claim.owner, claim.now)) return { ok: false, why: "claimed" };
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
    if (claim?.release) this.unclaimNow(runId, claim.owner);
    else if (claim !== undefined) this.claimed.set(runId, { owner: claim.owner, until: claim.now + claim.ttlMs });
    if (next.status !== "queued") index.blocked.delete(runId);
    const startable = sealing ? this.unblock(sop, file.definition.maxConcurrent) : [];
    // The run file carries the seal, so it is written first: a crash before the head's own file
    // is written loses nothing (loading takes the head from the newest seal too).
    await this.persistEnded(runId, file);
    if (sealing) {
      const { seal } = sealing;
      const written = this.writtenHeads.get(sop);
      if (written === undefined || written.seq < seal.seq) this.writtenHeads.set(sop, { seq: seal.seq, hash: seal.hash, runId });
      await this.persistHead(sop);
    }
    return { ok: true, startable };
  }

  async list(filter: RunFilter = {}): Promise<RunState[]> {
    // Runs going on are all in memory and few: a filter on their statuses never looks at ended runs.
    const open = filter.statuses !== undefined && !filter.statuses.some(isTerminal);
    const index = filter.sop === undefined ? undefined : this.sops.get(filter.sop);
    const ids = filter.sop === undefined
      ? (open ? [...this.runs.keys()] : [...this.runs.keys(), ...this.ended.ids()])
      : (open ? [...(index?.waiting ?? []), ...(index?.active ?? [])] : [...(index?.runs ?? [])]);
    const matching = ids.filter((id) => {
      const status = this.statusOf(id);
      return status !== undefined && (filter.statuses === undefined || filter.statuses.includes(status));
    });
    const found = await this.readStates(matching);
    return found.sort((a, b) => a.queuedAt - b.queuedAt || compareIds(a.id, b.id));
  }

  async page(query: RunPageQuery): Promise<RunPage> {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw new RangeError(`a page holds at least 1 run, not ${query.limit}`);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const order = query.sop === undefined ? this.order : this.sops.get(query.sop)?.order;
    const chosen: RunPlace[] = [];
    let more = false;
    for (const place of order?.newestFirst(cursor) ?? []) {
      const status = this.statusOf(place.id);
      if (status === undefined || (query.statuses !== undefined && !query.statuses.includes(status))) continue;
      if (chosen.length === query.limit) {
        more = true;
        break;
      }
      chosen.push(place);
    }
    const last = chosen[chosen.length - 1];
    const runs = await this.readStates(chosen.map((p) => p.id));
    return more && last !== undefined ? { runs, next: encodeCursor(last) } : { runs };
  }

  async endedSince(since: number): Promise<string[]> {
    const found: string[] = [];
    for (const run of this.ended.values()) if (run.completedAt >= since) found.push(run.id);
    return found;
  }

  async markAudited(sop: string, seq: number): Promise<void> {
    this.assertWritable();
    assertFileName("SOP name", sop);
    if (seq <= (this.marks.audited.get(sop) ?? 0)) return;
    this.marks.audited.set(sop, seq);
    await this.persistMarks();
  }

  async prune(query: PruneQuery): Promise<{ runId: string; sop: string }[]> {
    this.assertWritable();
    const chosen: EndedSummary[] = [];
    for (const run of this.ended.values()) {
      if (chosen.length >= query.limit) break;
      const audited = this.marks.audited.get(run.sop) ?? 0;
      if (run.completedAt < query.endedBefore && run.seal !== undefined && run.seal.seq <= audited && !this.ended.pending(run.id)) chosen.push(run);
    }
    if (chosen.length === 0) return [];
    const ids = new Set(chosen.map((r) => r.id));
    for (const run of chosen) {
      const index = this.indexOf(run.sop);
      this.ended.delete(run.id);
      this.claimed.delete(run.id);
      this.deadlines.delete(run.id);
      index.runs.delete(run.id);
      countEnded(index, run.status, -1);
      if (run.seal !== undefined && index.sealed.get(run.seal.seq) === run.id) index.sealed.delete(run.seal.seq);
    }
    this.order.remove(ids);
    for (const sop of new Set(chosen.map((r) => r.sop))) {
      const index = this.indexOf(sop);
      index.order.remove(ids);
      if (index.lastAcceptance !== undefined) this.marks.accepted.set(sop, index.lastAcceptance);
    }
    // The marks before the files: a cooldown must not end early because its runs are gone.
    await this.persistMarks();
    // Files first: a crash before the index is rewritten leaves lines whose file is gone, which a start drops.
    const runsDir = join(this.dataDir, "runs");
    // The chat ledger's files (FileMessageLedger) go with their run, as Redis's prune deletes its keys.
    const chatDirs = CHAT_PLATFORMS.map((platform) => join(this.dataDir, "chat", platform));
    const files = (id: string) => [join(runsDir, `${id}.json`), ...chatDirs.map((dir) => join(dir, `${id}.json`))];
    for (let i = 0; i < chosen.length; i += READ_BATCH) {
      await Promise.all(chosen.slice(i, i + READ_BATCH).flatMap((r) => files(r.id).map((path) => rm(path, { force: true }))));
    }
    await this.ended.compactIndex();
    return chosen.map((r) => ({ runId: r.id, sop: r.sop }));
  }

  async count(sop: string, statuses: readonly RunStatus[]): Promise<number> {
    const index = this.sops.get(sop);
    if (index === undefined) return 0;
    let n = 0;
    for (const status of new Set(statuses)) {
      if (status === "queued") n += index.waiting.size;
      else if (isTerminal(status)) n += index.endedCounts.get(status) ?? 0;
      else for (const id of index.active) if (this.runs.get(id)?.run.status === status) n++;
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
    if (!this.mayClaim(runId, owner, now)) return false;
    this.claimed.set(runId, { owner, until: now + ttlMs });
    return true;
  }

  async unclaim(runId: string, owner: string): Promise<void> {
    this.unclaimNow(runId, owner);
  }

  /** Nobody else holds an unexpired claim on the run. */
  private mayClaim(runId: string, owner: string, now: number): boolean {
    const held = this.claimed.get(runId);
    return held === undefined || held.owner === owner || held.until <= now;
  }

  private unclaimNow(runId: string, owner: string): void {
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
    const record = (this.runs.get(runId) ?? (await this.ended.read(runId)))?.record;
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
    await this.ended.index.settled();
  }

  private assertWritable(): void {
    if (this.broken) throw this.broken;
    if (this.closed) throw new Error(`the run store in ${this.dataDir} is closed`);
    if (this.options.readOnly) throw new Error(`the run store in ${this.dataDir} was opened read-only`);
  }

  private indexOf(sop: string): SopIndex {
    let index = this.sops.get(sop);
    if (index === undefined) this.sops.set(sop, (index = { runs: new Set(), order: new HistoryOrder(), endedCounts: new Map(), waiting: new Set(), active: new Set(), blocked: new Set(), sealed: new Map() }));
    return index;
  }

  // Replacing a run is: drop it from the indexes, store, index again. An ended run leaves memory
  // for its summary (its file stays in `unwritten` until written, and among the recent ones).
  private put(file: RunFile, opts: { loading?: boolean } = {}): void {
    const { id, sop, status, queuedAt } = file.run;
    const index = this.indexOf(sop);
    index.waiting.delete(id);
    index.active.delete(id);
    if (isTerminal(status)) {
      this.runs.delete(id);
      const before = this.ended.put(file);
      if (before !== undefined) countEnded(index, before.status, -1);
      countEnded(index, status, 1);
    } else {
      this.runs.set(id, file);
    }
    if (!index.runs.has(id)) {
      index.runs.add(id);
      // A start sorts every run once at the end instead.
      if (opts.loading !== true) {
        index.order.add(file.run);
        this.order.add(file.run);
      }
    }
    if (opts.loading === true) this.noteSeal(summaryOf(file));
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
    return this.persist(`run:${runId}`, join(this.dataDir, "runs", `${runId}.json`), "run state",
      () => this.runs.get(runId) ?? this.ended.fileToWrite(runId));
  }

  /**
   * Writes the run file, and for an ended run then its index line: never a line before its file,
   * so the index cannot name a state the file does not hold.
   */
  private async persistEnded(runId: string, file: RunFile): Promise<void> {
    await this.persistRun(runId);
    if (isTerminal(file.run.status)) await this.ended.written(file);
  }

  /** States of these runs (clones), in this order; runs gone meanwhile are left out. */
  private async readStates(ids: readonly string[]): Promise<RunState[]> {
    const found: RunState[] = [];
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const files = await Promise.all(ids.slice(i, i + READ_BATCH).map(async (id) => this.runs.get(id) ?? (await this.ended.read(id))));
      for (const file of files) if (file !== undefined) found.push(structuredClone(file.run));
    }
    return found;
  }

  private statusOf(runId: string): RunStatus | undefined {
    return this.runs.get(runId)?.run.status ?? this.ended.summary(runId)?.status;
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
    const { entries, wasted } = await this.ended.index.read();
    const onDisk = new Set(runFiles.map((name) => name.slice(0, -".json".length)));
    // The index is stale when a line names a file that is gone, a file has no line, or lines repeat.
    let stale = wasted > 0;
    for (const summary of entries.values()) {
      if (onDisk.has(summary.id)) this.putSummary(summary);
      else stale = true;
    }
    const unindexed = runFiles.filter((name) => !entries.has(name.slice(0, -".json".length)));
    for (let i = 0; i < unindexed.length; i += READ_BATCH) {
      const batch = unindexed.slice(i, i + READ_BATCH);
      const loaded = await Promise.all(batch.map((name) => this.readValid(join(runsDir, name), "run state", (v) => checkRun(v, name))));
      for (const file of loaded) {
        if (file === undefined) continue;
        this.put(withoutLegacyFields(file), { loading: true });
        if (isTerminal(file.run.status)) {
          this.ended.putWritten(summaryOf(file));
          stale = true;
        }
      }
    }
    // One small place object per run, shared by the global order and its SOP's (summaries are small already).
    const places: (RunPlace & { sop: string })[] = [...this.runs.values()].map(({ run }) => ({ queuedAt: run.queuedAt, id: run.id, sop: run.sop }));
    places.push(...this.ended.values());
    this.order.addAll(places);
    const bySop = new Map<string, RunPlace[]>();
    for (const place of places) {
      const list = bySop.get(place.sop);
      if (list === undefined) bySop.set(place.sop, [place]);
      else list.push(place);
    }
    for (const [sop, sopPlaces] of bySop) this.indexOf(sop).order.addAll(sopPlaces);
    for (const name of await this.listJson(chainDir)) {
      const sop = name.slice(0, -".json".length);
      const head = await this.readValid(join(chainDir, name), "audit chain head", checkHead);
      if (head !== undefined && head.seq > (this.heads.get(sop)?.seq ?? 0)) this.heads.set(sop, head);
    }
    for (const [sop, head] of this.heads) this.writtenHeads.set(sop, { ...head });
    await this.loadMarks();
    if (stale && !this.options.readOnly) await this.ended.rewriteIndex();
  }

  /** An ended run as the index names it: its file is not read. */
  private putSummary(summary: EndedSummary): void {
    const index = this.indexOf(summary.sop);
    this.ended.putWritten(summary);
    countEnded(index, summary.status, 1);
    index.runs.add(summary.id);
    this.noteSeal(summary);
    if (index.lastAcceptance === undefined || summary.queuedAt > index.lastAcceptance) index.lastAcceptance = summary.queuedAt;
  }

  /** At load: the chain's index, and the head from the newest seal (a crash may have lost the head file's write). */
  private noteSeal(run: EndedSummary): void {
    const { seal } = run;
    if (seal === undefined) return;
    this.indexOf(run.sop).sealed.set(seal.seq, run.id);
    if (seal.seq > (this.heads.get(run.sop)?.seq ?? 0)) this.heads.set(run.sop, { seq: seal.seq, hash: seal.hash, runId: run.id });
  }

  private persistMarks(): Promise<void> {
    return this.persist("marks", this.marks.path, "history marks", () => this.marks.toJSON());
  }

  private async loadMarks(): Promise<void> {
    await this.marks.load((m) => this.report(m));
    for (const [sop, at] of this.marks.accepted) {
      const index = this.indexOf(sop);
      if (index.lastAcceptance === undefined || at > index.lastAcceptance) index.lastAcceptance = at;
    }
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

function countEnded(index: SopIndex, status: RunStatus, delta: number): void {
  index.endedCounts.set(status, (index.endedCounts.get(status) ?? 0) + delta);
}

/** Line order: higher priority first, then earlier, then by id so the order is total. */
function compareLine(a: RunState, b: RunState): number {
  return LINE_RANK[a.priority] - LINE_RANK[b.priority] || a.queuedAt - b.queuedAt || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
