import { readFile } from "node:fs/promises";

/**
 * `<dataDir>/marks.json`: per SOP, the seq up to which its audit files are written (`markAudited`,
 * what prune may remove up to), and its last acceptance once prune removed runs of it (the
 * cooldown must outlive the runs it is derived from).
 */
export class HistoryMarks {
  readonly audited = new Map<string, number>();
  readonly accepted = new Map<string, number>();

  constructor(readonly path: string) {}

  toJSON(): { audited: Record<string, number>; accepted: Record<string, number> } {
    return { audited: Object.fromEntries(this.audited), accepted: Object.fromEntries(this.accepted) };
  }

  /** Reads the file; a missing one is no marks, an unreadable one is reported and counts as none (nothing is pruned until marked again). */
  async load(report: (message: string) => void): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new Error(`cannot read the history marks ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let value: { audited?: unknown; accepted?: unknown };
    try {
      value = JSON.parse(text) as { audited?: unknown; accepted?: unknown };
    } catch (error) {
      report(`${this.path}: cannot read the history marks: not valid JSON (${(error as Error).message}); nothing is pruned until they are written again`);
      return;
    }
    for (const [sop, seq] of numbers(value.audited)) this.audited.set(sop, seq);
    for (const [sop, at] of numbers(value.accepted)) this.accepted.set(sop, at);
  }
}

/** The entries of a JSON object whose values are numbers. */
function numbers(value: unknown): [string, number][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]));
}
