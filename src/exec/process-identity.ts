/**
 * Which machine a process group lives on, and whether a recorded group is still the one we
 * started. A process group id means something only on its machine: the kernel's boot id and the
 * PID namespace together name that (two containers on one host share a boot id, not a namespace).
 */
import { readFileSync, readlinkSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";

export interface MachineIdentity {
  /** For people: where a command ran. */
  host: string;
  /** `<boot id>/<pid namespace>`, or undefined where /proc cannot tell (then nothing is ever signalled). */
  machine: string | undefined;
}

let cached: MachineIdentity | undefined;

export function thisMachine(): MachineIdentity {
  return (cached ??= readMachine());
}

function readMachine(): MachineIdentity {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const namespace = readlinkSync("/proc/self/ns/pid");
    return { host: hostname(), machine: `${boot}/${namespace}` };
  } catch {
    return { host: hostname(), machine: undefined };
  }
}

/**
 * The start time of process `pid` (clock ticks since boot, field 22 of /proc/<pid>/stat), or
 * undefined when it is gone or /proc cannot tell. A pid and its start time name one process for
 * the life of a boot.
 */
export function startTicksOf(pid: number): string | undefined {
  try {
    // Read at once: /proc is the kernel's memory, never a disk, and this sits between a command's
    // spawn and its start (four trips through the thread pool would cost more than the read).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ")" do not.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether any process is left in process group `pgid`. */
export function groupExists(pgid: number | undefined): boolean {
  if (pgid === undefined || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM: the group exists but is another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a live (not zombie) process is left in group `pgid`. A zombie cannot be killed and
 * does nothing; where init does not reap orphans (some containers) they linger in the group.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!groupExists(pgid)) return false;
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // no /proc to tell zombies apart: the group is there
  }
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // After the command name: state (field 3), ppid, pgrp (field 5).
    const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (group === String(pgid) && state !== "Z" && state !== "X") return true;
  }
  return false;
}
