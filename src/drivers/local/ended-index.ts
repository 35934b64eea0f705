import { appendFile, readFile } from "node:fs/promises";
import { writeTextAtomic } from "../../audit/write-audit-file.ts";
import { isTerminal, type RunStatus } from "../../core/run/run-state.ts";

/** What memory keeps of an ended run; the run file (read on demand) holds the rest. */
export interface EndedSummary {
  id: string;
  sop: string;
  status: RunStatus;
  queuedAt: number;
  completedAt: number;
  revision: number;
  /** Its place in the SOP's audit chain (the hash makes a head after a crash that lost the head file). */
  seal?: { seq: number; hash: string };
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkSummary(value: unknown): EndedSummary | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const s = value as Partial<EndedSummary>;
  if (typeof s.id !== "string" || typeof s.sop !== "string" || !isTerminal(s.status as RunStatus)) return undefined;
  if (!isCount(s.queuedAt) || !isCount(s.completedAt) || !isCount(s.revision)) return undefined;
  if (s.seal !== undefined && (!isCount(s.seal.seq) || typeof s.seal.hash !== "string")) return undefined;
  return s as EndedSummary;
}

/**
 * `<dataDir>/runs.index`: one JSON line per ended run, appended after its run file is written, so
 * a start reads one file instead of every run. It is a cache the run files overrule: a run file it
 * does not name is read at start (a crash came between the two writes), a line whose file is gone
 * is dropped, a line cut short is ignored, and the last line of a run wins.
 */
export class EndedIndexFile {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The summaries it holds, and how many lines did not count (unreadable, or repeats). */
  async read(): Promise<{ entries: Map<string, EndedSummary>; wasted: number }> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: new Map(), wasted: 0 };
      throw new Error(`cannot read the run index ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const entries = new Map<string, EndedSummary>();
    let lines = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      lines++;
      let summary: EndedSummary | undefined;
      try {
        summary = checkSummary(JSON.parse(line));
      } catch {
        continue;
      }
      if (summary !== undefined) entries.set(summary.id, summary);
    }
    return { entries, wasted: lines - entries.size };
  }

  /** Appends in call order; a failed append is only a slower next start (the run file is the truth). */
  append(summary: EndedSummary): Promise<void> {
    return this.enqueue(() => appendFile(this.path, `${JSON.stringify(summary)}\n`, { mode: 0o600 }));
  }

  /** Replaces the whole index atomically (temp file + rename) with these summaries. */
  rewrite(summaries: Iterable<EndedSummary>): Promise<void> {
    return this.enqueue(async () => {
      const lines: string[] = [];
      for (const s of summaries) lines.push(JSON.stringify(s));
      // A cache the run files can rebuild: atomic, not fsynced.
      await writeTextAtomic(this.path, lines.length > 0 ? `${lines.join("\n")}\n` : "", { what: "the run index", durable: false, private: true });
    });
  }

  /** Resolves once every append and rewrite asked for so far is done. */
  settled(): Promise<void> {
    return this.tail;
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    const done = this.tail.then(write);
    this.tail = done.catch(() => undefined);
    return done;
  }
}
