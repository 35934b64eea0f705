/** Processes as /proc shows them (Linux); zombies count as gone: a zombie runs nothing. */
import { readFile, readdir } from "node:fs/promises";

/** The state letter and the process group of `pid`, or undefined once it is gone. */
async function stat(pid: string): Promise<{ state: string; pgid: number } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  if (text === "") return undefined;
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", pgid: Number(fields[2]) };
}

/** Whether `pid` still runs (nothing here reaps orphans, so a zombie counts as gone). */
export async function isRunning(pid: number): Promise<boolean> {
  const s = await stat(String(pid));
  return s !== undefined && s.state !== "Z";
}

/** Whether every process of the group `pgid` is gone. */
export async function groupIsGone(pgid: number): Promise<boolean> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = await stat(entry);
    if (s !== undefined && s.state !== "Z" && s.pgid === pgid) return false;
  }
  return true;
}

/** The process group of `pid`, or undefined once it is gone. */
export async function processGroupOf(pid: number): Promise<number | undefined> {
  return (await stat(String(pid)))?.pgid;
}
