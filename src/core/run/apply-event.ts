/**
 * The run state machine: (definition, state, event, now) → (state, effects, outcome).
 * Pure: the caller persists the state and performs the effects.
 */
import type { SopDefinition, VarValue } from "../sop/types.ts";
import { advanceInPlace, finishRun, gateTimeoutMs, stepTimeoutMs, type Transition } from "./advance.ts";
import { decide, type Actor, type DecisionOutcome } from "./decide.ts";
import { RUN_TIMEOUT, stepFinished, type Effect, type CommandTarget } from "./effects.ts";
import { capOutput } from "./cap-output.ts";
import { isTerminal, type Checkpoint, type CommandProcess, type RunState } from "./run-state.ts";
import { setFields } from "./set-fields.ts";
import { commandOf, stepOf, stepStateOf } from "./step-lookup.ts";

export interface CommandResultEvent {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  error?: string;
}

/**
 * Inputs of the state machine. `decide`, `timeout` and `cancel` only record what happened;
 * moving on (which may start a command) is `advance`, done by a worker, so commands never start
 * in the process that merely received a click.
 */
export type RunInput =
  | { type: "start" }
  | { type: "advance" }
  | { type: "command_finished"; target: CommandTarget; commandIndex: number; attempt: number; result: CommandResultEvent; outputVars: Record<string, VarValue> }
  /** The command's process started: where it runs, so that a recovery can stop it. */
  | { type: "command_started"; target: CommandTarget; commandIndex: number; attempt: number; process: CommandProcess }
  | { type: "decide"; checkpoint?: string; actor: Actor; decision: "approve" | "deny"; comment?: string; definitionHash?: string }
  | { type: "timeout"; checkpoint: string }
  | { type: "cancel"; actor: Actor; reason?: string }
  /**
   * The process that ran this run's command died; recover what it left. `fates` says, per
   * command target (`targetKey`), what became of the orphaned process ("stopped …", "may still
   * be running …"), for the record.
   */
  | { type: "recover"; fates?: Record<string, string> };

export interface EventResult extends Transition {
  outcome?: DecisionOutcome;
  /** False when the event changed nothing (stale, duplicate): nothing to persist. */
  changed: boolean;
}

export function applyEvent(def: SopDefinition, before: RunState, input: RunInput, now: number): EventResult {
  const run = structuredClone(before);
  const effects: Effect[] = [];
  const unchanged: EventResult = { run: before, effects: [], changed: false };
  switch (input.type) {
    case "start": {
      if (run.status !== "queued") return unchanged;
      run.status = "running";
      run.startedAt = now;
      effects.push({ type: "emit", event: { type: "run_started", runId: run.id, sop: run.sop, at: now } });
      if (def.timeoutSecs !== undefined) {
        run.timeoutAt = now + def.timeoutSecs * 1000;
        effects.push({ type: "schedule_timeout", checkpoint: RUN_TIMEOUT, at: run.timeoutAt });
      }
      break;
    }
    case "command_finished":
      if (!commandFinished(def, run, input, now, effects)) return unchanged;
      break;
    case "command_started":
      if (!commandStarted(run, input)) return unchanged;
      return { run, effects, changed: true };
    case "decide": {
      // A deadline that passed decides first: what counts is the deadline the approvers were
      // shown, not when a busy or stopped worker gets to its timer.
      const late = lateDecision(def, run, input.checkpoint, now, effects);
      if (late !== undefined) return { run, effects, outcome: late, changed: true };
      const outcome = decide(run, input, now, effects);
      if (!outcome.changed) return { ...unchanged, outcome };
      if (outcome.ended) finishRun(def, run, now, effects, "denied");
      return { run, effects, outcome, changed: true };
    }
    case "timeout":
      if (!timeout(def, run, input.checkpoint, now, effects)) return unchanged;
      return { run, effects, changed: true };
    case "advance":
      break;
    case "cancel": {
      if (isTerminal(run.status)) {
        return { ...unchanged, outcome: { ok: false, code: "finished", message: `run ${run.id} already ended (${run.status})`, changed: false } };
      }
      stopRun(def, run, now, effects, "cancelled", `cancelled by ${input.actor.id}${input.reason ? `: ${input.reason}` : ""}`);
      return { run, effects, outcome: { ok: true, message: `cancelled run ${run.id}`, changed: true }, changed: true };
    }
    case "recover":
      recover(run, def, now, effects, input.fates ?? {});
      break;
  }
  advanceInPlace(def, run, now, effects);
  if (input.type === "advance" && effects.length === 0 && run.status === before.status) return unchanged;
  return { run, effects, changed: true };
}

/** `step:3` or `gate:post_patch`: how `recover` fates name a command's target. */
export function targetKey(target: CommandTarget): string {
  return target.kind === "step" ? `step:${target.step}` : `gate:${target.gate}`;
}

function commandStarted(run: RunState, input: Extract<RunInput, { type: "command_started" }>): boolean {
  const { target, commandIndex, attempt } = input;
  if (isTerminal(run.status)) return false;
  if (target.kind === "gate") {
    const v = run.verifications.find((x) => x.gate === target.gate);
    if (!v || v.status !== "running" || v.attempt !== attempt) return false;
    v.process = input.process;
    return true;
  }
  const state = run.steps[target.step - 1];
  if (!state || state.status !== "running" || state.commandIndex !== commandIndex || state.attempt !== attempt) return false;
  state.process = input.process;
  return true;
}

function commandFinished(
  def: SopDefinition, run: RunState, input: Extract<RunInput, { type: "command_finished" }>, now: number, effects: Effect[],
): boolean {
  if (isTerminal(run.status)) return false;
  const { result, target } = input;
  const ok = result.exitCode === 0 && !result.timedOut && !result.cancelled && result.error === undefined;
  Object.assign(run.outputVars, input.outputVars);
  if (target.kind === "gate") {
    const v = run.verifications.find((x) => x.gate === target.gate);
    if (!v || v.status !== "running" || v.attempt !== input.attempt) return false;
    v.status = ok ? "success" : "failed";
    v.completedAt = now;
    v.exitCode = result.exitCode;
    v.output = capOutput(result.output);
    delete v.process;
    return true;
  }
  const state = run.steps[target.step - 1];
  const step = def.steps[target.step - 1];
  if (!state || !step || state.status !== "running") return false;
  if (state.commandIndex !== input.commandIndex || state.attempt !== input.attempt) return false;
  state.output = capOutput(state.output + result.output);
  state.exitCode = result.exitCode;
  delete state.process;
  const next = step.commands[input.commandIndex + 1];
  if (ok && next !== undefined) {
    setFields(state, { commandIndex: input.commandIndex + 1, attempt: 0 });
    effects.push({ type: "run_command", target, command: next, commandIndex: state.commandIndex, attempt: 0, timeoutMs: stepTimeoutMs(step) });
    return true;
  }
  if (!ok && !result.cancelled && input.attempt < step.retries) {
    state.attempt = input.attempt + 1;
    state.output = capOutput(`${state.output}\n--- ${failureWords(result, step.timeoutSecs)}; retry ${state.attempt} of ${step.retries} ---\n`);
    effects.push({ type: "run_command", target, command: commandOf(step, input.commandIndex), commandIndex: input.commandIndex, attempt: state.attempt, timeoutMs: stepTimeoutMs(step) });
    return true;
  }
  setFields(state, { status: ok ? "success" : "failed", completedAt: now });
  if (!ok) state.reason = failureWords(result, step.timeoutSecs);
  effects.push(stepFinished(run, state, now));
  return true;
}

function failureWords(result: CommandResultEvent, timeoutSecs: number | undefined): string {
  if (result.error !== undefined) return result.error;
  if (result.timedOut) return `timed out after ${timeoutSecs ?? 900} s`;
  if (result.cancelled) return "cancelled";
  return result.exitCode === null ? "killed by a signal" : `exit code ${result.exitCode}`;
}

function timeout(def: SopDefinition, run: RunState, id: string, now: number, effects: Effect[]): boolean {
  if (isTerminal(run.status)) return false;
  if (id === RUN_TIMEOUT) {
    const at = runTimeoutAt(def, run);
    if (at === undefined || now < at) return false;
    stopRun(def, run, now, effects, "timed_out", `the run took longer than timeout_secs = ${def.timeoutSecs}`);
    return true;
  }
  const cp = run.checkpoints.find((c) => c.id === id);
  if (!cp || cp.status !== "pending" || cp.deadline === undefined || now < cp.deadline) return false;
  const waited = Math.round((cp.deadline - cp.requestedAt) / 1000);
  cp.decidedAt = now;
  if (cp.onTimeout === "approve") {
    setFields(cp, { status: "approved", by: [...cp.by, "timeout"], comment: `approved automatically: no decision within ${waited} s (on_timeout = "approve")` });
    const step = cp.step !== undefined ? run.steps[cp.step - 1] : undefined;
    if (cp.kind === "manual" && step) setFields(step, { status: "success", completedAt: now });
    else if (step?.status === "awaiting_approval") step.status = "pending";
    run.status = "running";
    effects.push({ type: "emit", event: { type: "approval_decided", runId: run.id, sop: run.sop, at: now, checkpoint: cp.id, status: "approved", by: "timeout" } });
    return true;
  }
  cp.status = "timed_out";
  effects.push({ type: "emit", event: { type: "approval_decided", runId: run.id, sop: run.sop, at: now, checkpoint: cp.id, status: "timed_out" } });
  const words = `no decision on ${cp.id} within ${waited} s`;
  if (cp.kind === "manual" && cp.step !== undefined) {
    setFields(stepStateOf(run, cp.step), { status: "failed", completedAt: now, reason: words });
    run.status = "running";
    return true;
  }
  run.endReason = words;
  for (const s of run.steps) if (s.status === "pending" || s.status === "awaiting_approval") setFields(s, { status: "skipped", reason: words });
  finishRun(def, run, now, effects, "timed_out");
  return true;
}

/**
 * A decision that comes after the run's own deadline, or after the deadline of the checkpoint it
 * is for: the timeout is applied now (as its timer would have) and the decision is refused.
 * Undefined when no deadline passed.
 */
function lateDecision(def: SopDefinition, run: RunState, checkpoint: string | undefined, now: number, effects: Effect[]): DecisionOutcome | undefined {
  if (isTerminal(run.status)) return undefined;
  const runAt = runTimeoutAt(def, run);
  if (runAt !== undefined && now >= runAt && timeout(def, run, RUN_TIMEOUT, now, effects)) {
    return { ok: false, code: "finished", message: `run ${run.id} timed out at ${new Date(runAt).toISOString()} (timeout_secs = ${def.timeoutSecs}), before this decision; nothing to decide`, changed: true };
  }
  const cp = run.checkpoints.find((c) => c.id === (checkpoint ?? run.checkpoints.find((p) => p.status === "pending")?.id));
  const deadline = cp?.deadline;
  if (cp === undefined || deadline === undefined || !timeout(def, run, cp.id, now, effects)) return undefined;
  const outcome = cp.status === "approved" ? `approved automatically (on_timeout = "approve")` : "timed out";
  return { ok: false, code: "already_decided", message: `${cp.id} of run ${run.id} passed its deadline (${new Date(deadline).toISOString()}) before this decision and was ${outcome}; nothing else changed`, changed: true };
}

/** Cancel or time out: kill what runs, and nothing else starts. */
function stopRun(def: SopDefinition, run: RunState, now: number, effects: Effect[], status: "cancelled" | "timed_out", reason: string): void {
  if (run.steps.some((s) => s.status === "running") || run.verifications.some((v) => v.status === "running")) {
    effects.push({ type: "kill_command" });
  }
  for (const s of run.steps) {
    if (s.status === "pending" || s.status === "running" || s.status === "awaiting_approval" || s.status === "awaiting_manual") {
      setFields(s, { status: "cancelled", reason, ...(s.startedAt !== undefined ? { completedAt: now } : {}) });
    }
  }
  for (const v of run.verifications) if (v.status === "running") setFields(v, { status: "cancelled", completedAt: now });
  for (const c of run.checkpoints) if (c.status === "pending") cancelCheckpoint(c, now);
  run.endReason = reason;
  finishRun(def, run, now, effects, status);
}

function cancelCheckpoint(c: Checkpoint, now: number): void {
  c.status = "cancelled";
  c.decidedAt = now;
}

/**
 * The worker driving the run is gone. A command whose process is on record (it may have begun:
 * a command runs only once its process is recorded) is interrupted: it fails ("interrupted"), or
 * runs again when its step has retries left; `fates` says what became of its process. A command
 * with no process on record never began, and simply runs now. Completed steps stay as they are.
 * Timers are re-armed, because they may have lived in the dead process.
 */
function recover(run: RunState, def: SopDefinition, now: number, effects: Effect[], fates: Record<string, string>): void {
  const fateOf = (key: string): string => (fates[key] ? ` (${fates[key]})` : "");
  for (const state of run.steps) {
    if (state.status !== "running") continue;
    const step = stepOf(def, state.number);
    const again = (attempt: number): Effect => ({
      type: "run_command", target: { kind: "step", step: step.number }, command: commandOf(step, state.commandIndex),
      commandIndex: state.commandIndex, attempt, timeoutMs: stepTimeoutMs(step),
    });
    if (state.process === undefined) {
      effects.push(again(state.attempt));
      continue;
    }
    const fate = fateOf(`step:${state.number}`);
    delete state.process;
    if (state.attempt < step.retries) {
      state.attempt += 1;
      state.output = capOutput(`${state.output}\n--- interrupted; retry ${state.attempt} of ${step.retries}${fate} ---\n`);
      effects.push(again(state.attempt));
    } else {
      setFields(state, { status: "failed", completedAt: now, reason: "interrupted", output: capOutput(`${state.output}\n--- interrupted${fate} ---\n`) });
      effects.push(stepFinished(run, state, now));
    }
  }
  for (const v of run.verifications) {
    if (v.status !== "running") continue;
    const gate = def.gates.find((g) => g.name === v.gate);
    if (v.process === undefined && gate?.type === "verification") {
      effects.push({ type: "run_command", target: { kind: "gate", gate: v.gate }, command: gate.command, commandIndex: 0, attempt: v.attempt, timeoutMs: gateTimeoutMs(gate) });
      continue;
    }
    const fate = fateOf(`gate:${v.gate}`);
    delete v.process;
    setFields(v, { status: "failed", completedAt: now, output: `${v.output}\n--- interrupted${fate} ---\n` });
  }
  for (const timer of pendingTimers(def, run)) effects.push({ type: "schedule_timeout", ...timer });
}

/** When the run as a whole times out (runs started before `timeoutAt` was kept: from the definition). */
function runTimeoutAt(def: SopDefinition, run: RunState): number | undefined {
  if (run.timeoutAt !== undefined) return run.timeoutAt;
  return def.timeoutSecs !== undefined && run.startedAt !== undefined ? run.startedAt + def.timeoutSecs * 1000 : undefined;
}

/**
 * The timers a run waiting or running needs: each pending checkpoint's deadline and the run's
 * own timeout. A process that lost its timers (the in-process queue after a restart) re-arms them.
 */
export function pendingTimers(def: SopDefinition, run: RunState): { checkpoint: string; at: number }[] {
  if (isTerminal(run.status)) return [];
  const timers = run.checkpoints.flatMap((c) => (c.status === "pending" && c.deadline !== undefined ? [{ checkpoint: c.id, at: c.deadline }] : []));
  const at = runTimeoutAt(def, run);
  if (at !== undefined) timers.push({ checkpoint: RUN_TIMEOUT, at });
  return timers;
}

/** The earliest moment something of the run times out, from its state alone (what stores index). */
export function nextDeadline(run: RunState): number | undefined {
  if (isTerminal(run.status)) return undefined;
  const times = run.checkpoints.flatMap((c) => (c.status === "pending" && c.deadline !== undefined ? [c.deadline] : []));
  if (run.timeoutAt !== undefined) times.push(run.timeoutAt);
  return times.length > 0 ? Math.min(...times) : undefined;
}
