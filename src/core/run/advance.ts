/**
 * Moves a run forward as far as it can go without the outside world: skips steps, passes notes
 * and bypassed gates, and stops at the first command to run, person to wait for, or the end.
 * What to do next is derived from the recorded statuses every time, so advancing twice is the
 * same as advancing once.
 */
import type { Gate, SopDefinition, Step } from "../sop/types.ts";
import { stepFinished, type Effect } from "./effects.ts";
import { checkpointId, isTerminal, type Checkpoint, type RunState } from "./run-state.ts";
import {
  approvalsBefore, decideStep, gateApproval, gatesOf, runFailure, runGates, type ApprovalSpec,
} from "./step-decision.ts";
import { setFields } from "./set-fields.ts";
import { stepStateOf } from "./step-lookup.ts";

export interface Transition {
  run: RunState;
  effects: Effect[];
}

type Action =
  | { kind: "wait" }
  | { kind: "finish" }
  | { kind: "skip"; step: Step; reason: string }
  | { kind: "approval"; spec: ApprovalSpec }
  | { kind: "verification"; gate: Extract<Gate, { type: "verification" }> }
  | { kind: "body"; step: Step; reason: string };

const DEFAULT_STEP_TIMEOUT_SECS = 15 * 60;

export function stepTimeoutMs(step: Step): number {
  return (step.timeoutSecs ?? DEFAULT_STEP_TIMEOUT_SECS) * 1000;
}

function hasCheckpoint(run: RunState, id: string): boolean {
  return run.checkpoints.some((c) => c.id === id);
}

function nextGate(run: RunState, gates: Gate[], step: number | undefined): Action | undefined {
  for (const gate of gates) {
    if (gate.type === "approval") {
      if (!hasCheckpoint(run, checkpointId.gate(gate.name))) return { kind: "approval", spec: gateApproval(gate, step) };
    } else if (!run.verifications.some((v) => v.gate === gate.name)) {
      return { kind: "verification", gate };
    }
  }
  return undefined;
}

function nextAction(def: SopDefinition, run: RunState): Action {
  const busy =
    run.steps.some((s) => s.status === "running") ||
    run.verifications.some((v) => v.status === "running") ||
    run.checkpoints.some((c) => c.status === "pending");
  if (busy) return { kind: "wait" };
  const preRun = nextGate(run, runGates(def, "pre_run"), undefined);
  if (preRun) return preRun;
  for (const step of def.steps) {
    const state = run.steps[step.number - 1];
    if (!state) continue;
    if (state.status === "pending" || state.status === "awaiting_approval") {
      const decision = decideStep(def, run, step);
      if (!decision.run) return { kind: "skip", step, reason: decision.reason };
      const pre = nextGate(run, gatesOf(def, "pre", step.number), step.number);
      if (pre) return pre;
      const approval = approvalsBefore(def, step).find((a) => !hasCheckpoint(run, a.id));
      if (approval) return { kind: "approval", spec: approval };
      return { kind: "body", step, reason: decision.reason };
    }
    if (state.status === "success" || state.status === "bypassed") {
      const post = nextGate(run, gatesOf(def, "post", step.number), step.number);
      if (post) return post;
    }
  }
  if (!runFailure(def, run)) {
    const postRun = nextGate(run, runGates(def, "post_run"), undefined);
    if (postRun) return postRun;
  }
  return { kind: "finish" };
}

function openCheckpoint(spec: ApprovalSpec, kind: Checkpoint["kind"], now: number): Checkpoint {
  const cp: Checkpoint = {
    id: spec.id,
    kind,
    status: "pending",
    reason: spec.reason,
    requestedAt: now,
    approvers: spec.policy.approvers,
    minApprovals: spec.policy.minApprovals,
    allowSelfApproval: spec.policy.allowSelfApproval,
    onTimeout: spec.policy.onTimeout,
    by: [],
    refused: [],
    required: spec.required,
  };
  if (spec.step !== undefined) cp.step = spec.step;
  if (spec.policy.timeoutSecs > 0) cp.deadline = now + spec.policy.timeoutSecs * 1000;
  return cp;
}

/** Ask for a decision, or pass it at once when it is bypassed or only informative. */
function requestApproval(run: RunState, spec: ApprovalSpec, kind: Checkpoint["kind"], now: number, effects: Effect[]): boolean {
  const cp = openCheckpoint(spec, kind, now);
  run.checkpoints.push(cp);
  const event = { runId: run.id, sop: run.sop, at: now, checkpoint: cp.id, ...(cp.step !== undefined ? { step: cp.step } : {}) };
  if (run.bypassedBy !== undefined && spec.required) {
    setFields(cp, { status: "bypassed", by: [run.bypassedBy], decidedAt: now });
    effects.push({ type: "emit", event: { ...event, type: "approval_decided", status: "bypassed", by: run.bypassedBy } });
    return false;
  }
  if (!spec.required) {
    setFields(cp, { status: "notified", decidedAt: now });
    effects.push({ type: "emit", event: { ...event, type: "approval_requested", status: "notified" } });
    return false;
  }
  effects.push({ type: "emit", event: { ...event, type: kind === "manual" ? "manual_requested" : "approval_requested" } });
  if (cp.deadline !== undefined) effects.push({ type: "schedule_timeout", checkpoint: cp.id, at: cp.deadline });
  return true;
}

/** Start a step that will run; `why` (its condition's reason) stays on record until it fails. */
function startBody(def: SopDefinition, run: RunState, step: Step, why: string, now: number, effects: Effect[]): boolean {
  const state = stepStateOf(run, step.number);
  state.startedAt = now;
  state.reason = why;
  if (step.manual) {
    const spec: ApprovalSpec = { id: checkpointId.manual(step.number), step: step.number, reason: "manual step", policy: def.approval, required: true };
    if (run.bypassedBy !== undefined) {
      requestApproval(run, spec, "manual", now, effects);
      setFields(state, { status: "bypassed", completedAt: now, reason: `bypassed by ${run.bypassedBy}` });
      effects.push(stepFinished(run, state, now));
      return false;
    }
    requestApproval(run, spec, "manual", now, effects);
    state.status = "awaiting_manual";
    return true;
  }
  const command = step.commands[0];
  if (command === undefined) {
    setFields(state, { status: "success", completedAt: now });
    effects.push(stepFinished(run, state, now));
    return false;
  }
  setFields(state, { status: "running", commandIndex: 0, attempt: 0 });
  effects.push({ type: "emit", event: { type: "step_started", runId: run.id, sop: run.sop, at: now, step: step.number } });
  effects.push({ type: "run_command", target: { kind: "step", step: step.number }, command, commandIndex: 0, attempt: 0, timeoutMs: stepTimeoutMs(step) });
  return true;
}

const DEFAULT_GATE_TIMEOUT_SECS = 15 * 60;

export function gateTimeoutMs(gate: Extract<Gate, { type: "verification" }>): number {
  return (gate.timeoutSecs ?? DEFAULT_GATE_TIMEOUT_SECS) * 1000;
}

/** Advance `run` (mutated in place; callers hand in a copy) until it must wait or ends. */
export function advanceInPlace(def: SopDefinition, run: RunState, now: number, effects: Effect[]): void {
  if (isTerminal(run.status) || run.status === "queued") return;
  for (;;) {
    const action = nextAction(def, run);
    switch (action.kind) {
      case "wait":
        run.status = waitingStatus(run);
        return;
      case "skip": {
        const state = stepStateOf(run, action.step.number);
        setFields(state, { status: "skipped", reason: action.reason });
        effects.push(stepFinished(run, state, now));
        continue;
      }
      case "approval": {
        const waits = requestApproval(run, action.spec, "approval", now, effects);
        if (!waits) continue;
        const step = action.spec.step !== undefined ? run.steps[action.spec.step - 1] : undefined;
        if (step && step.status === "pending") step.status = "awaiting_approval";
        run.status = "awaiting_approval";
        return;
      }
      case "verification":
        run.verifications.push({ gate: action.gate.name, status: "running", startedAt: now, output: "", attempt: 0 });
        effects.push({
          type: "run_command", target: { kind: "gate", gate: action.gate.name }, command: action.gate.command,
          commandIndex: 0, attempt: 0, timeoutMs: gateTimeoutMs(action.gate),
        });
        run.status = "running";
        return;
      case "body":
        if (startBody(def, run, action.step, action.reason, now, effects)) {
          run.status = waitingStatus(run);
          return;
        }
        continue;
      case "finish":
        finishRun(def, run, now, effects);
        return;
    }
  }
}

function waitingStatus(run: RunState): RunState["status"] {
  const pending = run.checkpoints.find((c) => c.status === "pending");
  if (!pending) return "running";
  return pending.kind === "manual" ? "awaiting_manual" : "awaiting_approval";
}

export function finishRun(def: SopDefinition, run: RunState, now: number, effects: Effect[], status?: RunState["status"]): void {
  const failure = runFailure(def, run);
  run.status = status ?? (failure ? "failed" : "success");
  if (run.status === "failed" && failure && run.endReason === undefined) run.endReason = failure;
  run.completedAt = now;
  const told = {
    queuedAt: run.queuedAt,
    ...(run.startedAt !== undefined ? { startedAt: run.startedAt } : {}),
    ...(run.endReason !== undefined ? { endReason: run.endReason } : {}),
  };
  effects.push({ type: "emit", event: { type: "run_finished", runId: run.id, sop: run.sop, at: now, status: run.status, ...told } });
  effects.push({ type: "finished" });
}
