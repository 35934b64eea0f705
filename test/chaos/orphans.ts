/**
 * Processes that carry a scenario's marker in their command line (see step-journal.ts): what a
 * step left running. Cleanup kills them by pid (and their process group when they lead one);
 * nothing is killed by name.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface MarkedProcess {
  pid: number;
  pgid: number | undefined;
  args: string;
}

export function markedProcesses(marker: string): MarkedProcess[] {
  const out = spawnSync("pgrep", ["-f", "-a", marker], { encoding: "utf8" });
  const found: MarkedProcess[] = [];
  // null, whatever the types say, when pgrep could not be started.
  for (const line of ((out.stdout as string | null) ?? "").split("\n")) {
    const m = /^(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    found.push({ pid, pgid: pgidOf(pid), args: m[2]! });
  }
  return found;
}

function pgidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    return Number.isInteger(pgid) ? pgid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The marked processes still alive once every run has ended. Gives them `graceMs` to go (a
 * command whose run just ended may still be exiting), looking every 100 ms.
 */
export async function leftovers(marker: string, graceMs: number): Promise<MarkedProcess[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = markedProcesses(marker);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills every marked process (SIGKILL), and the process group of each one that leads its group. */
export function killMarked(marker: string): number {
  const found = markedProcesses(marker);
  for (const p of found) {
    try {
      if (p.pgid === p.pid) process.kill(-p.pid, "SIGKILL");
      else process.kill(p.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return found.length;
}

/** One line per leftover, grouped by run and step (the marker argument names them). */
export function describeLeftovers(found: readonly MarkedProcess[]): string[] {
  return found.map((p) => `pid ${p.pid} (group ${p.pgid ?? "?"}): ${p.args.replace(/\s+/g, " ").slice(0, 160)}`);
}
