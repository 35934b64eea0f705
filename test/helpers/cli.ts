import { spawn, type ChildProcess } from "node:child_process";

export const SOP_BIN = new URL("../../bin/sop.js", import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `sop …` as its own process, as a user in another shell would. */
export function sop(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnSop(args, opts);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function spawnSop(args: string[], opts: { cwd: string; env: Record<string, string> }): ChildProcess {
  return spawn(process.execPath, [SOP_BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
}
