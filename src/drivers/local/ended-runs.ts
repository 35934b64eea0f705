import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { StoredRun } from "../../ports/run-store.ts";
import { EndedIndexFile, type EndedSummary } from "./ended-index.ts";
import { checkRun } from "./stored-run-checks.ts";
import { setNewest } from "../../core/bounded-map.ts";

/** What a run file holds: the stored run and, once it ended, its sealed record. */
export interface RunFile extends StoredRun {
  record?: AuditRecord;
}

/** Ended run files kept in memory after a read or a write: the pages people look at again. */
const RECENT = 512;

/**
 * The local store's ended runs: a summary of each in memory (what pages, counts and prune need),
 * their files read on demand, the latest few hundred kept, and `runs.index` (see
 * `EndedIndexFile`) so that a start need not read them. An ended run's file stays in memory from
 * the change that ended it until its write has landed (`unwritten`), and only then gets its
 * index line, so the index never names a state its file does not hold.
 */
export class EndedRuns {
  private readonly summaries = new Map<string, EndedSummary>();
  /** Least recently used first. */
  private readonly recent = new Map<string, RunFile>();
  private readonly unwritten = new Map<string, RunFile>();
  /** Lines runs.index still holds for runs forgotten since it was last rewritten. */
  private droppedLines = 0;
  readonly index: EndedIndexFile;

  constructor(
    private readonly runsDir: string,
    indexPath: string,
    private readonly report: (message: string) => void,
  ) {
    this.index = new EndedIndexFile(indexPath);
  }

  has(runId: string): boolean {
    return this.summaries.has(runId);
  }

  summary(runId: string): EndedSummary | undefined {
    return this.summaries.get(runId);
  }

  values(): IterableIterator<EndedSummary> {
    return this.summaries.values();
  }

  ids(): IterableIterator<string> {
    return this.summaries.keys();
  }

  /** A run that ended (or changed after it ended), not written yet; returns its summary before, if any. */
  put(file: RunFile): EndedSummary | undefined {
    const id = file.run.id;
    const before = this.summaries.get(id);
    this.summaries.set(id, summaryOf(file));
    this.unwritten.set(id, file);
    this.remember(id, file);
    return before;
  }

  /** A run the index names, or whose file a start read: written already. */
  putWritten(summary: EndedSummary): void {
    this.summaries.set(summary.id, summary);
    this.unwritten.delete(summary.id);
  }

  /** What a write of the run's file writes now (the latest change), undefined when not ended here. */
  fileToWrite(runId: string): RunFile | undefined {
    return this.unwritten.get(runId) ?? this.recent.get(runId);
  }

  /** The run's file when memory has it (its last change, or a recent read); no read. */
  cached(runId: string): RunFile | undefined {
    return this.has(runId) ? this.fileToWrite(runId) : undefined;
  }

  /** Whether a change to the run still waits for its write: prune leaves such a run alone. */
  pending(runId: string): boolean {
    return this.unwritten.has(runId);
  }

  /**
   * The write of `file` (the change it made) landed: unless a newer change waits for its own
   * write, the run leaves `unwritten` and its index line is appended. A lost line costs only a
   * read of this file at the next start.
   */
  async written(file: RunFile): Promise<void> {
    const id = file.run.id;
    if (this.unwritten.get(id) !== file) return;
    this.unwritten.delete(id);
    const summary = this.summaries.get(id);
    if (summary === undefined) return;
    await this.index.append(summary).catch((error: unknown) => this.report((error as Error).message));
  }

  /** The run's file: from memory when written or read lately, else read (undefined when unknown or unreadable, which is reported). */
  async read(runId: string): Promise<RunFile | undefined> {
    if (!this.has(runId)) return undefined;
    const cached = this.cached(runId);
    if (cached !== undefined) {
      this.remember(runId, cached);
      return cached;
    }
    const path = join(this.runsDir, `${runId}.json`);
    let result: RunFile | string;
    try {
      result = checkRun(JSON.parse(await readFile(path, "utf8")) as unknown, `${runId}.json`);
    } catch (error) {
      // Pruned meanwhile: the summary is gone too.
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && !this.has(runId)) return undefined;
      result = error instanceof Error ? error.message : String(error);
    }
    if (typeof result === "string") {
      this.report(`${path}: cannot read run state: ${result}`);
      return undefined;
    }
    // A change that landed while this read waited is newer than what was read.
    const newer = this.cached(runId);
    if (newer !== undefined) return newer;
    const file = withoutLegacyFields(result);
    if (this.has(runId)) this.remember(runId, file);
    return file;
  }

  /** Forgets a pruned run (its file is the caller's to remove). */
  delete(runId: string): void {
    if (this.summaries.delete(runId)) this.droppedLines++;
    this.recent.delete(runId);
    this.unwritten.delete(runId);
  }

  /**
   * Replaces runs.index with the summaries of runs whose files are written (after a prune, or a
   * start that found it stale), taken now. A run whose change still waits for its write is left
   * out: its line follows its write, queued after this rewrite, so a crash before that write
   * leaves a file the next start reads, never a line naming a state no file holds.
   */
  rewriteIndex(): Promise<void> {
    this.droppedLines = 0;
    return this.index.rewrite([...this.summaries.values()].filter((s) => !this.unwritten.has(s.id)));
  }

  /**
   * Rewrites runs.index once the lines of forgotten runs outnumber the live ones: a prune of
   * 100,000 runs in batches rewrites it a few times, not once per batch. Until then those lines
   * cost only their bytes; a start drops them, as their files are gone.
   */
  compactIndex(): Promise<void> {
    return this.droppedLines > this.summaries.size ? this.rewriteIndex() : Promise.resolve();
  }

  private remember(runId: string, file: RunFile): void {
    setNewest(this.recent, runId, file, RECENT);
  }
}

/** The summary memory keeps of an ended run's file. */
export function summaryOf(file: RunFile): EndedSummary {
  const { id, sop, status, queuedAt, completedAt, revision } = file.run;
  const summary: EndedSummary = { id, sop, status: status, queuedAt, completedAt: completedAt ?? queuedAt, revision };
  if (file.seal !== undefined) summary.seal = { seq: file.seal.seq, hash: file.seal.hash };
  return summary;
}

/** Files written by earlier versions carried a `holdsSlot` flag; slots now follow the status. */
export function withoutLegacyFields(file: RunFile & { holdsSlot?: unknown }): RunFile {
  const { holdsSlot: _legacy, ...rest } = file;
  return rest;
}
