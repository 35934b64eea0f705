/**
 * Approve / deny / Done / Failed on a waiting checkpoint: who may, how many, and what a refused
 * or stale click says. Adapters pass the actor; only this decides whether the decision counts.
 */
import { stepFinished, type Effect } from "./effects.ts";
import type { Checkpoint, RunState } from "./run-state.ts";
import { isTerminal } from "./run-state.ts";
import { setFields } from "./set-fields.ts";

export interface Actor {
  /** `slack:U…`, `discord:…`, `api:alice`, `local:root` … */
  id: string;
  /** Groups the actor belongs to, resolved by the adapter: `slack-group:S…`, `discord-role:…`. */
  groups: string[];
  /** Listed in SOP_ADMINS (by identity or group). */
  admin: boolean;
}

export type DecisionCode = "not_allowed" | "self_approval" | "stale" | "already_decided" | "not_waiting" | "duplicate" | "finished";

export type DecisionOutcome =
  | { ok: true; message: string; changed: true; resolved?: boolean; ended?: boolean }
  | { ok: false; code: DecisionCode; message: string; changed: boolean; ended?: undefined };

export interface DecideInput {
  checkpoint?: string;
  actor: Actor;
  decision: "approve" | "deny";
  comment?: string;
  definitionHash?: string;
}

/** Approvers named, or "anyone who may use the bot" when none are. */
export function mayDecide(actor: Actor, approvers: readonly string[]): boolean {
  if (actor.admin || approvers.length === 0) return true;
  return approvers.includes(actor.id) || actor.groups.some((g) => approvers.includes(g));
}

function refuse(code: DecisionCode, message: string, changed = false): DecisionOutcome {
  return { ok: false, code, message, changed };
}

function refusalOf(run: RunState, cp: Checkpoint, actor: Actor, decision: "approve" | "deny"): { code: DecisionCode; message: string } | undefined {
  if (!mayDecide(actor, cp.approvers)) {
    return { code: "not_allowed", message: `not allowed: ${actor.id} is not an approver of ${cp.id} (approvers: ${cp.approvers.join(", ")})` };
  }
  // Denying your own run is always allowed: stopping is never the risky direction.
  if (decision === "approve" && !cp.allowSelfApproval && actor.id === run.requestedBy) {
    return { code: "self_approval", message: `not allowed: ${actor.id} started this run and ${run.sop} does not allow self-approval` };
  }
  return undefined;
}

export function decide(run: RunState, input: DecideInput, now: number, effects: Effect[]): DecisionOutcome {
  if (isTerminal(run.status)) return refuse("finished", `run ${run.id} already ended (${run.status}); nothing to decide`);
  if (input.definitionHash !== undefined && input.definitionHash !== run.definitionHash) {
    return refuse("stale", `this request belongs to another version of ${run.sop}; nothing changed`);
  }
  const pending = run.checkpoints.find((c) => c.status === "pending");
  const target = input.checkpoint ?? pending?.id;
  const cp = run.checkpoints.find((c) => c.id === target);
  if (!cp || target === undefined) return refuse("not_waiting", `run ${run.id} of ${run.sop} is not waiting for a decision (${run.status})`);
  if (cp.status !== "pending") {
    const who = cp.by.length ? ` by ${cp.by.join(", ")}` : "";
    return refuse("already_decided", `${cp.id} of run ${run.id} was already decided (${cp.status}${who}); nothing changed`);
  }
  const { actor, decision } = input;
  const event = { runId: run.id, sop: run.sop, at: now, checkpoint: cp.id, by: actor.id, ...(cp.step !== undefined ? { step: cp.step } : {}) };
  const refusal = refusalOf(run, cp, actor, decision);
  if (refusal) {
    cp.refused.push({ by: actor.id, at: now, decision, reason: refusal.message });
    effects.push({ type: "emit", event: { ...event, type: "approval_refused", status: decision } });
    return refuse(refusal.code, refusal.message, true);
  }
  if (decision === "approve" && cp.by.includes(actor.id)) {
    return refuse("duplicate", `${actor.id} already approved ${cp.id}; ${cp.by.length} of ${cp.minApprovals} distinct approvals so far`);
  }
  if (input.comment !== undefined && input.comment !== "") (cp.comments ??= []).push({ by: actor.id, at: now, text: input.comment });
  const step = cp.step !== undefined ? run.steps[cp.step - 1] : undefined;
  if (decision === "deny") {
    // `by` becomes who decided; the approvals given before the deny stay on record.
    if (cp.by.length > 0) cp.approvedBy = [...cp.by];
    setFields(cp, { status: "denied", by: [actor.id], decidedAt: now });
    effects.push({ type: "emit", event: { ...event, type: cp.kind === "manual" ? "manual_done" : "approval_decided", status: "denied", requestedAt: cp.requestedAt } });
    const words = `${cp.kind === "manual" ? "marked failed" : "denied"} by ${actor.id}${input.comment ? `: ${input.comment}` : ""}`;
    if (cp.kind === "manual" && step) {
      run.status = "running";
      setFields(step, { status: "failed", completedAt: now, reason: words });
      effects.push(stepFinished(run, step, now, { checkpoint: cp.id, by: actor.id }));
      return { ok: true, message: `step ${step.number} of run ${run.id} marked failed`, changed: true, resolved: true };
    }
    run.endReason = words;
    for (const s of run.steps) if (s.status === "pending" || s.status === "awaiting_approval") setFields(s, { status: "skipped", reason: words });
    return { ok: true, message: `denied ${cp.id} of run ${run.id}; the run is over`, changed: true, resolved: true, ended: true };
  }
  cp.by.push(actor.id);
  if (cp.by.length < cp.minApprovals) {
    effects.push({ type: "emit", event: { ...event, type: "approval_decided", status: "partial" } });
    const left = cp.minApprovals - cp.by.length;
    return { ok: true, message: `approval recorded: ${cp.by.length} of ${cp.minApprovals} for ${cp.id} of run ${run.id}; waiting for ${left} more`, changed: true, resolved: false };
  }
  setFields(cp, { status: "approved", decidedAt: now });
  // The run moves on (a worker advances it); until then it is no longer waiting for anyone.
  run.status = "running";
  if (cp.kind === "manual" && step) {
    setFields(step, { status: "success", completedAt: now });
    effects.push({ type: "emit", event: { ...event, type: "manual_done", status: "approved", requestedAt: cp.requestedAt } });
    effects.push(stepFinished(run, step, now, { checkpoint: cp.id, by: actor.id }));
    return { ok: true, message: `step ${step.number} of run ${run.id} marked done`, changed: true, resolved: true };
  }
  if (step && step.status === "awaiting_approval") step.status = "pending";
  effects.push({ type: "emit", event: { ...event, type: "approval_decided", status: "approved", requestedAt: cp.requestedAt } });
  return { ok: true, message: `approved ${cp.id} of run ${run.id}`, changed: true, resolved: true };
}
