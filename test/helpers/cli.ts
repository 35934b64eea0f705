import { spawn, spawnSync, type ChildProcess } from "node:child_process";

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

/** util-linux `script`, which gives `sop` a real terminal; it ships with Debian (bsdutils). */
export const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;

/**
 * `sop …` on a terminal (through `script`): each answer is typed once its prompt shows on the
 * screen. Answers the screen as the person saw it (stdout and stderr together, `\r\n` lines).
 */
export function sopOnTerminal(
  args: string[], opts: { cwd: string; env: Record<string, string> }, answers: readonly (readonly [prompt: string, answer: string])[],
): Promise<{ screen: string; code: number | null }> {
  const command = [process.execPath, SOP_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  const answered = new Set<string>();
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    for (const [prompt, answer] of answers) {
      if (screen.includes(prompt) && !answered.has(prompt)) {
        answered.add(prompt);
        child.stdin.write(answer);
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ screen, code }));
  });
}
