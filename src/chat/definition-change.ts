/**
 * "The SOP changed since this gate was last passed": for a checkpoint that waits, the run of the
 * same SOP that last passed a checkpoint with the same id (approved, or bypassed by an admin)
 * before this one was asked, and a compact line diff of its pinned definition against this
 * run's (as definition-text.ts writes them). Chat requests and the web UI both ask here.
 *
 * The diff is jsdiff's (`diff`, Myers' algorithm, no dependencies of its own) rather than one
 * written here: its hunks with context are what a compact diff needs, and it bounds its own work
 * (maxEditLength) on a pathological pair. It is imported the first time two definitions differ:
 * most processes never diff, and loading it costs an idle `sop serve` some 4 MiB.
 */
import type { Checkpoint, RunState } from "../core/run/run-state.ts";
import type { SopDefinition } from "../core/sop/types.ts";
import type { StoredRun } from "../ports/run-store.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import { isSecretName } from "../core/secret-names.ts";
import { definitionText } from "./definition-text.ts";
import { setNewest } from "../core/bounded-map.ts";

export interface DiffLine {
  /**
   * `section`: the step the next lines belong to (a hunk's header, when the hunk starts inside
   * it); `gap`: unchanged lines left out between two hunks.
   */
  kind: "section" | "gap" | "add" | "remove" | "same";
  text: string;
}

export interface DefinitionChange {
  /** The run that last passed this checkpoint, and how. */
  since: { runId: string; version: string; decision: "approved" | "bypassed"; decidedAt: number };
  /** This run's version. */
  version: string;
  lines: DiffLine[];
  /** Lines added and removed, in all. */
  changed: number;
  /** The two differ too much to diff (past MAX_EDITS): say so, show no lines. */
  tooLarge: boolean;
}

const CONTEXT = 1;
const MAX_EDITS = 5000;
/** Answers kept per store: one per (run, checkpoint) asked about; a waiting request is asked often. */
const CACHE_SIZE = 1000;

/** The line diff of two definitions, empty when their texts agree. */
export async function compareDefinitions(before: SopDefinition, after: SopDefinition): Promise<Pick<DefinitionChange, "lines" | "changed" | "tooLarge">> {
  const changedSecrets = new Set(Object.keys(after.vars).filter((name) => isSecretName(name) && name in before.vars && before.vars[name] !== after.vars[name]));
  const a = definitionText(before);
  const b = definitionText(after, changedSecrets);
  if (a === b) return { lines: [], changed: 0, tooLarge: false };
  const { structuredPatch } = await import("diff");
  const patch = structuredPatch("before", "after", a, b, undefined, undefined, { context: CONTEXT, maxEditLength: MAX_EDITS });
  if (!patch) return { lines: [], changed: 1, tooLarge: true };
  const newLines = b.split("\n");
  const lines: DiffLine[] = [];
  let changed = 0;
  for (const hunk of patch.hunks) {
    const body = hunk.lines.filter((l) => !l.startsWith("\\"));
    const first = body[0]?.slice(1) ?? "";
    // A hunk inside a step says which step; one that starts at a step or a setting needs no header.
    const header = first.startsWith(" ") ? sectionAbove(newLines, hunk.newStart - 1) : undefined;
    if (header !== undefined) lines.push({ kind: "section", text: header });
    else if (lines.length > 0) lines.push({ kind: "gap", text: "" });
    for (const l of body) {
      const kind = l[0] === "+" ? "add" : l[0] === "-" ? "remove" : "same";
      if (kind !== "same") changed++;
      lines.push({ kind, text: l.slice(1) });
    }
  }
  return { lines, changed, tooLarge: false };
}

/** The nearest line before `index` that starts a section. */
function sectionAbove(lines: readonly string[], index: number): string | undefined {
  return lines.slice(0, Math.max(0, index)).findLast((line) => line !== "" && !line.startsWith(" "));
}

/** The first `maxChanged` changed lines with their context, and how many changed lines are left out. */
export function foldDiff(lines: readonly DiffLine[], maxChanged: number): { shown: DiffLine[]; more: number } {
  const shown: DiffLine[] = [];
  let kept = 0;
  let total = 0;
  for (const l of lines) {
    const change = l.kind === "add" || l.kind === "remove";
    if (change) total++;
    if (total > maxChanged) continue;
    if (change) kept++;
    shown.push(l);
  }
  while (shown.at(-1)?.kind === "section" || shown.at(-1)?.kind === "gap") shown.pop();
  return { shown, more: total - kept };
}

/**
 * Passed by a person: approved by someone (not only by its timeout, which looked at nothing), or
 * bypassed by an admin who started the run so.
 */
const passed = (c: Checkpoint): boolean => (c.status === "approved" && c.by.some((id) => id !== "timeout")) || c.status === "bypassed";

/** The checkpoint with this id that `run` passed by `before` (epoch ms): only decisions made before a request count. */
const passedBy = (run: RunState, id: string, before: number): Checkpoint | undefined =>
  run.checkpoints.find((c) => c.id === id && passed(c) && c.decidedAt !== undefined && c.decidedAt <= before);

/** The checkpoint with this id that another run of the SOP last passed before `before` (epoch ms). */
function lastPassed(runs: readonly RunState[], self: RunState, id: string, before: number): { run: RunState; cp: Checkpoint; decidedAt: number } | undefined {
  let best: { run: RunState; cp: Checkpoint; decidedAt: number } | undefined;
  for (const run of runs) {
    if (run.id === self.id) continue;
    const cp = passedBy(run, id, before);
    const decidedAt = cp?.decidedAt;
    if (cp && decidedAt !== undefined && (!best || decidedAt > best.decidedAt || (decidedAt === best.decidedAt && run.queuedAt > best.run.queuedAt))) best = { run, cp, decidedAt };
  }
  return best;
}

/** Where the runs are read from: a `SopRunner`. */
type RunHistory = Pick<SopRunner, "history" | "run">;

/** How many of the SOP's latest runs are searched for the one that last passed a checkpoint: history is not read whole. */
const LOOKBACK_PAGES = 5;
const LOOKBACK_PAGE = 100;

/** The SOP's latest runs, newest first, until one passed one of these checkpoints (or the lookback ends). */
async function recentRuns(runner: RunHistory, sop: string, passes: (run: RunState) => boolean): Promise<RunState[]> {
  const runs: RunState[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < LOOKBACK_PAGES; i++) {
    const page = await runner.history({ sop, limit: LOOKBACK_PAGE, ...(cursor === undefined ? {} : { cursor }) });
    runs.push(...page.runs);
    // A run queued earlier may have passed later still, but one page past the first that passed is enough in practice.
    if (page.next === undefined || (i > 0 && runs.some(passes))) break;
    cursor = page.next;
  }
  return runs;
}

const caches = new WeakMap<RunHistory, Map<string, DefinitionChange | null>>();

function cacheOf(history: RunHistory): Map<string, DefinitionChange | null> {
  let cache = caches.get(history);
  if (!cache) caches.set(history, (cache = new Map<string, DefinitionChange | null>()));
  return cache;
}

/**
 * For each checkpoint of the run that waits, what changed in the SOP since a run last passed a
 * checkpoint with that id; checkpoints with nothing to compare (never passed, or passed with the
 * same definition) are absent. The answer for a checkpoint cannot change once it is asked (only
 * decisions made before it count), so it is remembered.
 */
export async function definitionChanges(runner: RunHistory, stored: StoredRun): Promise<Map<string, DefinitionChange>> {
  const { run } = stored;
  const out = new Map<string, DefinitionChange>();
  const waiting = run.checkpoints.filter((c) => c.status === "pending");
  if (waiting.length === 0) return out;
  const cache = cacheOf(runner);
  const key = (cp: Checkpoint) => `${run.id}\0${cp.id}\0${cp.requestedAt}`;
  const unknown = waiting.filter((cp) => !cache.has(key(cp)));
  // Paging stops at a run that counts for lastPassed: one passed after the request does not.
  const runs = unknown.length ? await recentRuns(runner, run.sop, (r) => r.id !== run.id && unknown.some((cp) => passedBy(r, cp.id, cp.requestedAt) !== undefined)) : [];
  for (const cp of unknown) {
    const found = lastPassed(runs, run, cp.id, cp.requestedAt);
    let change: DefinitionChange | null = null;
    if (found && found.run.definitionHash !== run.definitionHash) {
      const before = await runner.run(found.run.id);
      const diff = before ? await compareDefinitions(before.definition, stored.definition) : undefined;
      if (diff && diff.changed > 0) {
        change = {
          since: { runId: found.run.id, version: found.run.version, decision: found.cp.status === "bypassed" ? "bypassed" : "approved", decidedAt: found.decidedAt },
          version: run.version,
          ...diff,
        };
      }
    }
    setNewest(cache, key(cp), change, CACHE_SIZE);
  }
  for (const cp of waiting) {
    const change = cache.get(key(cp));
    if (change) out.set(cp.id, change);
  }
  return out;
}
