/** Runs one command of a step. The engine never spawns processes itself. */
export interface CommandSpec {
  /** Shell text, run as `/bin/sh -e -c <command>`; never has variables substituted into it. */
  command: string;
  /** Absolute working directory. */
  cwd: string;
  /** Complete environment of the child (the executor adds nothing but what it documents). */
  env: Record<string, string>;
  /** Kill the process group after this long; undefined = no limit. */
  timeoutMs?: number;
  /** Values replaced by `***` in the captured output. */
  redact: string[];
  /** Aborting kills the process group (cancel). */
  signal?: AbortSignal;
  /**
   * Told the command's process id (its process group's id) as soon as the process exists; the
   * command itself starts only once the returned promise resolves, so that where it runs is on
   * record before it can do anything, and not at all when it resolves to false (then the
   * process exits at once with code 125 and the command never begins).
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a listener that returns nothing lets the command start, as true does
  onSpawn?: (pid: number) => void | boolean | Promise<void | boolean>;
}

export interface CommandResult {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** stdout and stderr interleaved as they came, redacted, capped (head and tail kept). */
  output: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** The process could not be started (missing shell, bad cwd); exitCode is null. */
  spawnError?: string;
}

export interface StepExecutor {
  run(spec: CommandSpec): Promise<CommandResult>;
}
