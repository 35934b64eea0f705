import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { performance } from "node:perf_hooks";
import type { CommandResult, CommandSpec, StepExecutor } from "../ports/step-executor.ts";
import { CappedOutput } from "./capped-output.ts";
import { groupExists } from "./process-identity.ts";
import { redactText } from "./redact.ts";

export interface ShellExecutorOptions {
  /** Between SIGTERM and SIGKILL to the command's process group. Default 5000. */
  killGraceMs?: number;
  /** Output kept per command (head and tail). Default 65536. */
  outputCapBytes?: number;
}

/** How long pipes may stay open after the group got SIGKILL (held by a process that left it). */
const PIPE_DRAIN_MS = 1000;

/**
 * The outer shell, leader of the command's process group:
 * - waits for a line on its stdin, the go-ahead once `onSpawn` has recorded where the command
 *   runs (end of input without it means the caller is gone: nothing runs, exit 125);
 * - starts a watcher on a copy of its stdin, which the caller holds open while it lives: when the
 *   caller dies (kill -9 of a worker) the input ends and the whole group gets SIGTERM, so a
 *   command never outlives the process that answers for it, on any machine;
 * - becomes `/bin/sh -e -c <command>` (exec: the same process, so the group's leader and the
 *   process the caller waits for are the command's shell, and its end, code or signal, is the
 *   command's own), with stderr joined onto stdout (one pipe keeps the true order of both
 *   streams, which two pipes cannot) and stdin from /dev/null; the command is a positional
 *   parameter, never parsed by the outer shell.
 *
 * The watcher outlives the command by design: the caller's SIGTERM to the group once the shell
 * exited (which also ends the command's leftover background jobs) ends it. Two processes per
 * command, not three: the shell that waited for the command and reported its end is gone.
 */
const LAUNCHER_SCRIPT = [
  "read -r _ || exit 125",
  // A job started with & reads /dev/null unless told otherwise: the watcher reads a copy of stdin.
  "exec 3<&0",
  "(while read -r _; do :; done; kill -TERM 0) <&3 >/dev/null 2>&1 &",
  'exec /bin/sh -e -c "$1" 2>&1 </dev/null 3<&-',
].join("\n");
const LAUNCHER = ["-c", LAUNCHER_SCRIPT, "sh"];

/**
 * Runs each command as `/bin/sh -e -c <command>` in its own process group, with exactly the
 * given environment. Timeout and cancel send SIGTERM to the group, then SIGKILL after the grace
 * period; when the shell exits, leftover background jobs of its group are killed the same way.
 * Never rejects: a command that cannot start resolves with `spawnError`.
 */
export class ShellExecutor implements StepExecutor {
  readonly #killGraceMs: number;
  readonly #outputCapBytes: number;

  constructor(options: ShellExecutorOptions = {}) {
    this.#killGraceMs = options.killGraceMs ?? 5000;
    this.#outputCapBytes = options.outputCapBytes ?? 65_536;
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    const startedAt = performance.now();
    const result = (fields: Partial<CommandResult>): CommandResult => ({
      exitCode: null, signal: null, output: "", timedOut: false, cancelled: false,
      ...fields, durationMs: Math.round(performance.now() - startedAt),
    });
    if (spec.signal?.aborted) return result({ cancelled: true });
    if (!isAbsolute(spec.cwd)) {
      return result({ spawnError: `cannot start command: working directory ${spec.cwd} is not an absolute path` });
    }
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", [...LAUNCHER, spec.command], {
        cwd: spec.cwd, env: spec.env, detached: true, stdio: ["pipe", "pipe", "pipe"],
      });
    } catch (error) {
      // Some failures throw synchronously: a NUL byte in the command or env, a cwd that is a file.
      return result({ spawnError: await describeSpawnError(error, spec) });
    }
    const outcome = this.#supervise(child, spec);
    await this.#goAhead(child, spec);
    const ended = await outcome;
    if ("spawnError" in ended) {
      return result({ spawnError: await describeSpawnError(ended.spawnError, spec) });
    }
    return result(ended);
  }

  /** Tell `onSpawn` where the command runs, wait until it has recorded that, then let it run. */
  async #goAhead(child: ChildProcess, spec: CommandSpec): Promise<void> {
    const stdin = child.stdin;
    if (stdin === null) return;
    // A launcher that already died (killed by a cancel) closed its end: nothing to tell it.
    stdin.on("error", () => undefined);
    const go = child.pid === undefined ? undefined : await spec.onSpawn?.(child.pid);
    // End of input without the line: the launcher exits 125 and the command never begins. With
    // it, the input stays open for as long as this process lives (see LAUNCHER_SCRIPT).
    if (go === false) stdin.end();
    else stdin.write("go\n");
  }

  #supervise(child: ChildProcess, spec: CommandSpec): Promise<Partial<CommandResult> | { spawnError: unknown }> {
    const output = new CappedOutput({ capBytes: this.#outputCapBytes, secrets: spec.redact });
    const pipes = [child.stdout, child.stderr].filter((p) => p !== null);
    for (const pipe of pipes) pipe.on("data", (chunk: Buffer) => output.write(chunk));

    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      let stopping: "timeout" | "cancel" | "exited" | undefined;
      let sentSignal: NodeJS.Signals | null = null;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let openPipes = pipes.length;
      let done = false;
      let escalation: NodeJS.Timeout | undefined;

      const killGroup = (signal: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
          sentSignal ??= signal;
        } catch {
          // ESRCH: the group is already empty.
        }
      };
      const stop = (reason: NonNullable<typeof stopping>): void => {
        if (stopping !== undefined) return;
        stopping = reason;
        killGroup("SIGTERM");
        // Not cleared when the result is in: a leftover that ignores SIGTERM and holds no pipe
        // must still die. Unref'd, so it never keeps the process alive on its own.
        escalation = setTimeout(() => {
          if (groupExists(child.pid)) killGroup("SIGKILL");
          // Whatever still holds the pipes escaped the group; stop waiting for it.
          if (!done) timers.push(setTimeout(() => pipes.forEach((p) => p.destroy()), PIPE_DRAIN_MS));
        }, this.#killGraceMs).unref();
      };
      const onAbort = (): void => stop("cancel");
      const finish = (): void => {
        // Not before the shell's end: the watcher reads its end of this pipe, and the stderr pipe
        // closes as soon as the shell joins stderr onto stdout, while the command runs.
        if (exit !== undefined) child.stdin?.destroy();
        if (done || exit === undefined || openPipes > 0) return;
        done = true;
        timers.forEach(clearTimeout);
        // An empty group's id may be reused later; never signal it then.
        if (!groupExists(child.pid)) clearTimeout(escalation);
        spec.signal?.removeEventListener("abort", onAbort);
        const interrupted = stopping === "timeout" || stopping === "cancel";
        resolve({
          exitCode: exit.code,
          // A command that trapped our signal and exited with a code was still ended by it.
          signal: exit.signal ?? (interrupted ? sentSignal : null),
          output: output.finish(),
          timedOut: stopping === "timeout",
          cancelled: stopping === "cancel",
        });
      };

      child.on("error", (error) => {
        if (done || child.pid !== undefined) return;
        done = true;
        timers.forEach(clearTimeout);
        spec.signal?.removeEventListener("abort", onAbort);
        resolve({ spawnError: error });
      });
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        // Background jobs would otherwise keep the pipes open and the step running.
        stop("exited");
        finish();
      });
      for (const pipe of pipes) {
        // A read error ends in "close" as well; unhandled, it would crash the whole bot.
        pipe.on("error", () => undefined);
        pipe.once("close", () => {
          openPipes -= 1;
          finish();
        });
      }
      if (spec.timeoutMs !== undefined) timers.push(setTimeout(() => stop("timeout"), spec.timeoutMs));
      spec.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Turns a spawn error into a message that says what to fix. */
async function describeSpawnError(error: unknown, { cwd, redact }: CommandSpec): Promise<string> {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES") {
    const problem = await stat(cwd).then(
      async (s) => {
        if (!s.isDirectory()) return "is not a directory";
        return access(cwd, constants.X_OK).then(() => undefined, () => "is not accessible");
      },
      (e: unknown) => ((e as NodeJS.ErrnoException).code === "EACCES" ? "is not accessible" : "does not exist"),
    );
    if (problem !== undefined) return `cannot start command: working directory ${cwd} ${problem}`;
    if (code === "ENOENT") return "cannot start command: /bin/sh not found";
  }
  // Node quotes an invalid value ("… Received 'x'"), which may be a secret, and escapes it past redaction.
  const message = messageOf(error).replace(/\. Received [\s\S]*$/, "");
  return `cannot start command: ${redactText(message, redact)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
