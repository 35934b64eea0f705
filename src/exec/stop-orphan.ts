/**
 * A worker that died left its command running (commands run in process groups of their own, so
 * they outlive it). Before a step is recovered, whoever recovers it stops that group when it is
 * on the same machine; elsewhere it can only say that the command may still be running.
 */
import type { CommandProcess } from "../core/run/run-state.ts";
import { groupAlive, startTicksOf, type MachineIdentity } from "./process-identity.ts";

export interface StopOrphanOptions {
  /** Between SIGTERM and SIGKILL. Default 5000, as for a cancelled command. */
  graceMs?: number;
  /** Waits between looks at the group; default real time. */
  sleep?: (ms: number) => Promise<void>;
}

const LOOK_EVERY_MS = 50;
const KILL_WAIT_MS = 2000;

/** Stops the orphaned group if it is ours to stop; says, for the record, what became of it. */
export async function stopOrphan(proc: CommandProcess, here: MachineIdentity, options: StopOrphanOptions = {}): Promise<string> {
  const where = `process group ${proc.pgid} on ${proc.host}`;
  if (here.machine === undefined || proc.machine !== here.machine) return `it may still be running: ${where}`;
  const leader = startTicksOf(proc.pgid);
  // The leader lives with another start time: the id was reused after our group ended.
  if (leader !== undefined && proc.startTicks !== undefined && leader !== proc.startTicks) return `its ${where} had ended`;
  if (leader !== undefined && proc.startTicks === undefined) return `it may still be running: ${where} (not stopped: its start was not recorded)`;
  if (!(await groupAlive(proc.pgid))) return `its ${where} had ended`;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  signal(proc.pgid, "SIGTERM");
  if (await gone(proc.pgid, options.graceMs ?? 5000, sleep)) return `its ${where} was stopped`;
  signal(proc.pgid, "SIGKILL");
  if (await gone(proc.pgid, KILL_WAIT_MS, sleep)) return `its ${where} was killed`;
  return `its ${where} would not die`;
}

function signal(pgid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pgid, name);
  } catch {
    // ESRCH: it ended meanwhile.
  }
}

async function gone(pgid: number, withinMs: number, sleep: (ms: number) => Promise<void>): Promise<boolean> {
  for (let waited = 0; waited < withinMs; waited += LOOK_EVERY_MS) {
    if (!(await groupAlive(pgid))) return true;
    await sleep(LOOK_EVERY_MS);
  }
  return !(await groupAlive(pgid));
}
