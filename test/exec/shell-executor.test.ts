import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ShellExecutor } from "../../src/exec/shell-executor.ts";
import type { CommandSpec } from "../../src/ports/step-executor.ts";
import { groupIsGone, isRunning } from "../helpers/process-group.ts";
import { until } from "../helpers/until.ts";

let dir: string;
const leftovers: number[] = [];

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "shell-executor-")));
});

afterEach(async () => {
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

function spec(command: string, extra: Partial<CommandSpec> = {}): CommandSpec {
  return { command, cwd: dir, env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }, redact: [], ...extra };
}

/** A killed process may still be tearing down when its pipe closes: wait for it to go, up to 2 s. */
const goneSoon = (what: string, gone: () => Promise<boolean>): Promise<boolean> =>
  until(what, gone, 2_000).then(() => true, () => false);

const isGoneSoon = (pid: number): Promise<boolean> => goneSoon(`process ${pid} to go`, async () => !(await isRunning(pid)));

const groupIsGoneSoon = (pgid: number): Promise<boolean> => goneSoon(`process group ${pgid} to go`, () => groupIsGone(pgid));

/** Starts `script` in the background and waits until it wrote its pidfile, so no kill can beat its set-up. */
function readyInBackground(script: string, prefix = ""): string {
  return `${prefix}sh -c '${script.replaceAll("'", "'\\''")}' & while [ ! -s pidfile ]; do sleep 0.02; done`;
}

async function pidFrom(file: string): Promise<number> {
  return Number((await readFile(join(dir, file), "utf8")).trim());
}

describe("ShellExecutor", () => {
  const executor = new ShellExecutor();

  it("reports a successful command with its output", async () => {
    const result = await executor.run(spec("echo hello"));
    expect(result).toMatchObject({ exitCode: 0, signal: null, output: "hello\n", timedOut: false, cancelled: false });
    expect(result.spawnError).toBeUndefined();
  });

  it("runs the command only once onSpawn has had the process id, and not at all when it says no", async () => {
    const executor = new ShellExecutor();
    const seen: { pid: number; ranBefore: boolean }[] = [];
    const ran = await executor.run(spec("touch ran", {
      onSpawn: async (pid) => {
        seen.push({ pid, ranBefore: existsSync(join(dir, "ran")) });
        return true;
      },
    }));
    expect(ran.exitCode).toBe(0);
    expect(seen).toEqual([{ pid: expect.any(Number), ranBefore: false }]);
    expect(existsSync(join(dir, "ran"))).toBe(true);
    const refused = await executor.run(spec("touch refused", { onSpawn: () => false }));
    expect(refused.exitCode).toBe(125);
    expect(existsSync(join(dir, "refused"))).toBe(false);
  });

  it("reports the exit code of a failing command", async () => {
    const result = await executor.run(spec("echo failing; exit 3"));
    expect(result).toMatchObject({ exitCode: 3, signal: null, output: "failing\n" });
  });

  it("stops at the first failing command because the shell runs with -e", async () => {
    const result = await executor.run(spec("false; echo after"));
    expect(result.exitCode).toBe(1);
    expect(result.output).not.toContain("after");
  });

  it("gives the command no stdin", async () => {
    expect(await executor.run(spec("cat"))).toMatchObject({ exitCode: 0, output: "" });
  });

  it("runs in the working directory", async () => {
    expect((await executor.run(spec("pwd"))).output).toBe(`${dir}\n`);
  });

  it("hands variables over verbatim and never interprets them as shell", async () => {
    const env = { PATH: process.env["PATH"] ?? "", TMP: dir, SOP_VAR_VERSION: "1.2.3; touch $TMP/pwned" };
    const result = await executor.run(spec('printf %s "$SOP_VAR_VERSION"', { env }));
    expect(result.output).toBe("1.2.3; touch $TMP/pwned");
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });

  it("passes exactly the given environment and nothing of its own", async () => {
    const result = await executor.run(spec('printf %s "${HOME-unset} ${ONLY_HERE}"', {
      env: { PATH: process.env["PATH"] ?? "", ONLY_HERE: "yes" },
    }));
    expect(result.output).toBe("unset yes");
  });

  it("interleaves stdout and stderr in the order they were written", async () => {
    const result = await executor.run(spec("echo a; echo b >&2; echo c; echo d >&2"));
    expect(result.output).toBe("a\nb\nc\nd\n");
  });

  it("keeps the head and tail of long output with a marker between", async () => {
    const result = await executor.run(spec("seq 1 30000"));
    expect(result.exitCode).toBe(0);
    expect(result.output.startsWith("1\n2\n3\n")).toBe(true);
    expect(result.output.endsWith("29999\n30000\n")).toBe(true);
    expect(result.output).toMatch(/\n… \[\d+ bytes omitted\] …\n/);
    const marker = /\n… \[\d+ bytes omitted\] …\n/.exec(result.output)?.[0] ?? "";
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(65_536 + Buffer.byteLength(marker));
  });

  it("stays within the cap and flat in memory for a command printing 100 MB", async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const result = await executor.run(spec("head -c 104857600 /dev/zero | tr '\\0' x")).finally(() => clearInterval(sampler));
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(`… [${104_857_600 - 65_536} bytes omitted] …`);
    expect(Buffer.byteLength(result.output)).toBeLessThanOrEqual(65_536 + 40);
    // Half the output: an executor that kept it would grow by all of it; chunks awaiting GC stay well below.
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });

  it("redacts a secret the command prints", async () => {
    const env = { PATH: process.env["PATH"] ?? "", DEPLOY_TOKEN: "tok-12345" };
    const result = await executor.run(spec('echo "token is $DEPLOY_TOKEN"', { env, redact: ["tok-12345"] }));
    expect(result.output).toBe("token is ***\n");
  });

  it("redacts a secret printed in two pieces that arrive as separate chunks", async () => {
    const result = await executor.run(spec("printf 'key=tok-'; sleep 0.2; printf '12345\\n'", { redact: ["tok-12345"] }));
    expect(result.output).toBe("key=***\n");
  });

  it("kills the whole process group on timeout, background jobs included", async () => {
    const result = await executor.run(spec("sleep 1000 & echo $! > pidfile; wait", { timeoutMs: 300 }));
    const sleeper = await pidFrom("pidfile");
    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: "SIGTERM" });
    expect(await isGoneSoon(sleeper)).toBe(true);
  });

  it("kills a foreground sleep on timeout", async () => {
    const result = await executor.run(spec("echo $$ > pidfile; sleep 1000", { timeoutMs: 300 }));
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
    expect(await groupIsGoneSoon(await pidFrom("pidfile"))).toBe(true);
  });

  it("escalates to SIGKILL when the command ignores SIGTERM", async () => {
    const patient = new ShellExecutor({ killGraceMs: 300 });
    const result = await patient.run(spec("echo $$ > pidfile; trap '' TERM; sleep 1000", { timeoutMs: 200 }));
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL" });
    expect(result.durationMs).toBeGreaterThanOrEqual(400);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(await groupIsGoneSoon(await pidFrom("pidfile"))).toBe(true);
  });

  it("cancels a running command when its signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await executor.run(spec("echo started; sleep 1000 & echo $! > pidfile; wait", { signal: controller.signal }));
    expect(result).toMatchObject({ cancelled: true, timedOut: false, exitCode: null, signal: "SIGTERM", output: "started\n" });
    expect(await isGoneSoon(await pidFrom("pidfile"))).toBe(true);
  });

  it("stops the command when the process that started it dies (kill -9), whatever machine it is on", async () => {
    const runner = join(dir, "runner.mts");
    const executorModule = new URL("../../src/exec/shell-executor.ts", import.meta.url).pathname;
    await writeFile(runner, `import { ShellExecutor } from ${JSON.stringify(executorModule)};
await new ShellExecutor().run({ command: "echo $$ > pidfile; sleep 60", cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH }, redact: [] });`);
    const parent = spawn(process.execPath, ["--import", "tsx", runner], { cwd: process.cwd(), stdio: "ignore" });
    const pid = await until("the command to run", () => readFile(join(dir, "pidfile"), "utf8").then((t) => Number(t.trim()) || undefined, () => undefined), 15_000);
    parent.kill("SIGKILL");
    expect(await isGoneSoon(pid)).toBe(true);
  });

  it("does not start a command whose signal is already aborted", async () => {
    const result = await executor.run(spec("touch ran", { signal: AbortSignal.abort() }));
    expect(result).toMatchObject({ cancelled: true, exitCode: null, output: "" });
    expect(existsSync(join(dir, "ran"))).toBe(false);
  });

  it("resolves with a clear spawn error when the working directory is missing", async () => {
    const missing = join(dir, "nope");
    const result = await executor.run(spec("echo hi", { cwd: missing }));
    expect(result).toMatchObject({ exitCode: null, signal: null, output: "" });
    expect(result.spawnError).toBe(`cannot start command: working directory ${missing} does not exist`);
  });

  it("resolves with a clear spawn error when the working directory is a file", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    const result = await executor.run(spec("echo hi", { cwd: file }));
    expect(result.spawnError).toBe(`cannot start command: working directory ${file} is not a directory`);
  });

  it("resolves with a spawn error when the working directory is relative", async () => {
    const result = await executor.run(spec("echo hi", { cwd: "relative/dir" }));
    expect(result.spawnError).toBe("cannot start command: working directory relative/dir is not an absolute path");
  });

  it("resolves with a redacted spawn error when an environment value cannot be passed", async () => {
    const result = await executor.run(spec("true", { env: { BAD: "sec\0ret" }, redact: ["sec\0ret"] }));
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toMatch(/^cannot start command: .*BAD/);
    expect(result.spawnError).not.toMatch(/sec.*ret/);
  });

  it("finishes when the command leaves a background job behind, and kills the job", async () => {
    const result = await executor.run(spec("sleep 1000 & echo $! > pidfile; echo done"));
    expect(result).toMatchObject({ exitCode: 0, signal: null, output: "done\n", timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
    expect(await isGoneSoon(await pidFrom("pidfile"))).toBe(true);
  });

  it("kills a leftover background job that ignores SIGTERM after the grace period", async () => {
    const patient = new ShellExecutor({ killGraceMs: 300 });
    const result = await patient.run(spec(`${readyInBackground("trap '' TERM; echo $$ > pidfile; exec sleep 1000")}; echo done`));
    expect(result).toMatchObject({ exitCode: 0, output: "done\n", timedOut: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(await isGoneSoon(await pidFrom("pidfile"))).toBe(true);
  });

  it("stops waiting for pipes held by a process that left the group", async () => {
    const patient = new ShellExecutor({ killGraceMs: 200 });
    const result = await patient.run(spec(`${readyInBackground("echo $$ > pidfile; exec sleep 1000", "setsid ")}; echo done`));
    leftovers.push(await pidFrom("pidfile"));
    expect(result).toMatchObject({ exitCode: 0, output: "done\n" });
    expect(result.durationMs).toBeLessThan(10_000);
  });
});
