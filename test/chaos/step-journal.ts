/**
 * Steps whose commands say what they do: each appends `J <sop> <run> <step> start|done <worker
 * pid> <ms>` to `$TMPDIR/journal` and carries the scenario's marker in its command line, so that
 * the journal shows every start of every step and `pgrep -f <marker>` finds every process a step
 * left behind.
 *
 * A command whose worker died (the worker it found at its start is no longer its ancestor) does
 * not write "done": it lingers for a minute as a leftover would, so that one nobody stops is
 * still there to be counted. "done" is written
 * only while the worker lives, which leaves one honest window: the worker dies after "done" and
 * before it records the step. A step with `retries` then runs again, at least once by necessity;
 * such a re-run is told apart by the kill of that very worker right after "done".
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { KillLog } from "./fleet.ts";

export interface StepSpec {
  title: string;
  /** Seconds to sleep, as shell text: `0.1`, or `"${SOP_VAR_SLEEP:-1}"`. */
  sleep: string;
  /** Attributes after the title, without brackets: `retries: 2`, `requires_approval: true`. */
  attrs?: string;
}

/**
 * The command of one step (a fenced `sh` block's content). `$W` is the worker: the nearest
 * ancestor that is not a shell (the executor may put a launcher shell between them).
 */
export function journalCommand(marker: string, sleep: string): string {
  const worker = `W=$PPID; while [ "$(cat /proc/$W/comm 2>/dev/null)" = sh ]; do W=$(cut -d' ' -f4 /proc/$W/stat); done`;
  return [
    `JOURNAL="$TMPDIR/journal"`,
    worker,
    `echo "J $SOP_NAME $SOP_RUN_ID $SOP_STEP start $W $(date +%s%3N) ${marker}" >> "$JOURNAL"`,
    `sh -c 'sleep "$1"; :' "${marker}:sleep:$SOP_RUN_ID:$SOP_STEP" ${sleep}`,
    // Orphaned (the worker that started us is gone): linger as a leftover would, to be counted.
    `STARTED_BY=$W; ${worker}`,
    `if [ "$W" != "$STARTED_BY" ]; then sh -c 'sleep 60; :' "${marker}:left:$SOP_RUN_ID:$SOP_STEP"; exit 0; fi`,
    `echo "slept ${sleep}"`,
    `echo "J $SOP_NAME $SOP_RUN_ID $SOP_STEP done $W $(date +%s%3N)" >> "$JOURNAL"`,
  ].join("\n");
}

/** SOP.md with these steps, each running its journal command. */
export function journalSteps(marker: string, specs: readonly StepSpec[]): string {
  const items = specs.map((s, i) => {
    const body = ["```sh", ...journalCommand(marker, s.sleep).split("\n"), "```"].map((l) => `   ${l}`).join("\n");
    return `${i + 1}. **${s.title}**${s.attrs ? ` [${s.attrs}]` : ""}\n${body}`;
  });
  return `# Chaos\n\n## Steps\n\n${items.join("\n\n")}\n`;
}

export interface JournalEntry {
  sop: string;
  runId: string;
  step: string;
  kind: "start" | "done";
  /** The worker that ran the command. */
  ppid: number;
  at: number;
}

export function journalPath(tmpDir: string): string {
  return join(tmpDir, "journal");
}

export async function readJournal(tmpDir: string): Promise<JournalEntry[]> {
  const text = await readFile(journalPath(tmpDir), "utf8").catch(() => "");
  const entries: JournalEntry[] = [];
  for (const line of text.split("\n")) {
    // The worker may be missing (a /proc lookup that failed): the line still counts as a start or a finish.
    const m = /^J (\S+) (\S+) (\S+) (start|done) (\d*) ?(\d+)/.exec(line);
    if (m) entries.push({ sop: m[1]!, runId: m[2]!, step: m[3]!, kind: m[4] as "start" | "done", ppid: Number(m[5] || 0), at: Number(m[6]) });
  }
  return entries;
}

export interface JournalReport {
  /** Steps that started again after they were done, or more than once without `retries`. */
  reRuns: string[];
  /** Re-runs after a "done" whose worker was killed before it could record it (not counted). */
  atLeastOnce: string[];
  starts: number;
}

/** How long after "done" a worker may take to record it: its death within this window explains a re-run. */
const RECORD_WINDOW_MS = 1000;

/**
 * `retried`: `<run id> <step>` of the steps the store says were run again after an interruption
 * (their output says "interrupted; retry"): only those may be explained by a worker's death.
 */
export function checkJournal(entries: readonly JournalEntry[], retriesOf: (sop: string, step: string) => number, kills: KillLog, retried: ReadonlySet<string> = new Set()): JournalReport {
  const groups = new Map<string, JournalEntry[]>();
  for (const e of entries) {
    const key = `${e.runId} ${e.step}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const report: JournalReport = { reRuns: [], atLeastOnce: [], starts: 0 };
  for (const [key, group] of groups) {
    const first = group[0]!;
    const retries = retriesOf(first.sop, first.step);
    const starts = group.filter((e) => e.kind === "start").length;
    report.starts += starts;
    let done: JournalEntry | undefined;
    let counted = false;
    for (const e of group) {
      if (e.kind === "done") {
        done = e;
        continue;
      }
      if (done === undefined) continue;
      const doneBy = done;
      const killed = kills.kills.find((k) => k.pid === doneBy.ppid && k.at >= doneBy.at - 250 && k.at <= doneBy.at + RECORD_WINDOW_MS);
      if (retries > 0 && killed && retried.has(key)) {
        report.atLeastOnce.push(`${first.sop} run ${key}: done at ${iso(doneBy.at)} by pid ${doneBy.ppid}, which was killed ${killed.at - doneBy.at} ms later (${killed.what}); started again at ${iso(e.at)}`);
      } else if (!counted) {
        counted = true;
        report.reRuns.push(`${first.sop} run ${key}: done at ${iso(doneBy.at)} by pid ${doneBy.ppid}, started again at ${iso(e.at)} by pid ${e.ppid}${killed ? ` (that worker was killed ${killed.at - doneBy.at} ms after done, but the step has no retries)` : ""}`);
      }
    }
    if (!counted && retries === 0 && starts > 1) {
      report.reRuns.push(`${first.sop} run ${key}: started ${starts} times without retries (pids ${group.filter((e) => e.kind === "start").map((e) => `${e.ppid}@${iso(e.at)}`).join(", ")})`);
    }
  }
  return report;
}

const iso = (ms: number): string => new Date(ms).toISOString();
