/**
 * Runs one command of a step (or a verification gate) for the engine: the environment it gets,
 * its process recorded as it starts, its output vars, and every known secret value kept out of
 * what it leaves behind (output, variables), since that goes into the store.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { RunInput } from "../core/run/apply-event.ts";
import type { CommandTarget, Effect } from "../core/run/effects.ts";
import type { CommandProcess } from "../core/run/run-state.ts";
import { builtinVariables, userVariables } from "../core/run/run-variables.ts";
import { secretNamedValues } from "../core/audit/audit-record.ts";
import { startTicksOf, type MachineIdentity } from "../exec/process-identity.ts";
import { redactText } from "../exec/redact.ts";
import type { StoredRun } from "../ports/run-store.ts";
import type { StepExecutor } from "../ports/step-executor.ts";
import { baseEnv, commandEnv, readOutputVars } from "./command-env.ts";

export type CommandEffect = Extract<Effect, { type: "run_command" }>;
type CommandFinished = Extract<RunInput, { type: "command_finished" }>;

export interface CommandDeps {
  executor: StepExecutor;
  /** The bot's environment: where `[secrets]` values and the commands' base environment come from. */
  env: Readonly<Record<string, string | undefined>>;
  /** A private (0700) folder where $SOP_OUTPUT files live while a command runs. */
  tmpDir: string;
  machine: MachineIdentity;
}

/**
 * Runs the command `effect` asks for; `started` is told its process as soon as it exists, and
 * the command runs once that is on record: only when `started` says true (it never rejects).
 */
export async function runCommand(
  deps: CommandDeps, stored: StoredRun, effect: CommandEffect, signal: AbortSignal,
  started: (process: CommandProcess) => Promise<boolean>,
): Promise<CommandFinished> {
  const { run, definition: def } = stored;
  const stepNumber = effect.target.kind === "step" ? effect.target.step : undefined;
  const outputFile = join(deps.tmpDir, `sop-output-${run.id}-${randomBytes(6).toString("hex")}`);
  const base = { type: "command_finished" as const, target: effect.target, commandIndex: effect.commandIndex, attempt: effect.attempt };
  const secrets: Record<string, string> = {};
  for (const name of def.secrets) {
    const value = deps.env[name];
    if (value === undefined) {
      const error = `secret ${name} is not set in the bot's environment ([secrets] of ${def.name})`;
      return { ...base, result: { exitCode: null, output: "", timedOut: false, cancelled: false, durationMs: 0, error }, outputVars: {} };
    }
    secrets[name] = value;
  }
  const vars = { ...userVariables(run), ...builtinVariables(run, stepNumber) };
  const redact = [...Object.values(secrets), ...secretNamedValues(vars)];
  try {
    const result = await deps.executor.run({
      command: effect.command,
      cwd: resolve(stored.dir, def.workdir),
      env: commandEnv({ base: baseEnv(deps.env), secrets, vars, sop: run.sop, runId: run.id, step: stepLabel(effect.target), outputFile }),
      timeoutMs: effect.timeoutMs,
      redact,
      signal,
      onSpawn: (pid) => started(processOf(deps.machine, pid, effect)),
    });
    const outputVars = keepSecretsOut(await readOutputVars(outputFile), Object.values(secrets));
    const event = { exitCode: result.exitCode, output: result.output, timedOut: result.timedOut, cancelled: result.cancelled, durationMs: result.durationMs };
    return { ...base, result: result.spawnError !== undefined ? { ...event, error: result.spawnError } : event, outputVars };
  } finally {
    await rm(outputFile, { force: true });
  }
}

function stepLabel(target: CommandTarget): string {
  return target.kind === "step" ? String(target.step) : target.gate;
}

function processOf(machine: MachineIdentity, pid: number, effect: CommandEffect): CommandProcess {
  const proc: CommandProcess = { host: machine.host, machine: machine.machine ?? "", pgid: pid, commandIndex: effect.commandIndex, attempt: effect.attempt };
  const ticks = startTicksOf(pid);
  if (ticks !== undefined) proc.startTicks = ticks;
  return proc;
}

/**
 * `[secrets]` values a step wrote to $SOP_OUTPUT become `***`: variables are stored, and later
 * commands read the secret from their own environment anyway.
 */
function keepSecretsOut(vars: Record<string, string>, secrets: string[]): Record<string, string> {
  if (secrets.length === 0) return vars;
  return Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, redactText(value, secrets)]));
}
