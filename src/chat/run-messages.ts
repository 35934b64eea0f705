/**
 * What the bot shows about a run in a channel, built from the run as it stands (never from the
 * event that prompted it): the progress message, one request per approval or manual step, a
 * thread reply per finished step and the audit summary. Everything shown comes from the
 * redacted audit record, so a secret never reaches a channel.
 */
import type { AuditApproval, AuditRecord, AuditStep } from "../core/audit/audit-record.ts";
import { duration, utcText } from "../core/format.ts";
import { planRun, type PlannedStep } from "../core/plan/plan-run.ts";
import { isActive, isTerminal, type Checkpoint, type RunState } from "../core/run/run-state.ts";
import type { SopDefinition, VarValue } from "../core/sop/types.ts";
import type { StoredRun } from "../ports/run-store.ts";
import { approvalRequest, criticalConfirm, versionText } from "./approval-request.ts";
import { buttonId } from "./button-id.ts";
import { message, noFences, type ChatButton, type ChatField, type ChatMessage, type Tone } from "./chat-message.ts";
import type { DefinitionChange } from "./definition-change.ts";
import { requestLines } from "./request-lines.ts";

export interface RunSnapshot {
  stored: StoredRun;
  record: AuditRecord;
  /** Per waiting checkpoint, how the SOP changed since that gate was last passed (definitionChanges). */
  changes?: ReadonlyMap<string, DefinitionChange>;
}

export interface MessageContext {
  /** The run's page in the web UI, when the bot knows its public address. */
  runUrl?: (runId: string) => string;
}

const STEP_ICON: Record<string, string> = {
  success: "✅", failed: "❌", skipped: "⏭️", cancelled: "⏹️", bypassed: "⏩",
  running: "▶️", awaiting_approval: "⏳", awaiting_manual: "✋", pending: "▫️",
};

const RUN_TONE: Record<string, Tone> = {
  queued: "neutral", running: "info", awaiting_approval: "waiting", awaiting_manual: "waiting",
  success: "success", failed: "failure", denied: "failure", cancelled: "neutral", timed_out: "failure",
};

const OUTPUT_TAIL = 1500;

export const shortId = (runId: string): string => runId.slice(0, 8);
const words = (status: string): string => status.replace(/_/g, " ");

function heading(run: RunState): string {
  return `${run.sop} ${run.version} · run ${shortId(run.id)}`;
}

function linkOf(ctx: MessageContext, runId: string): ChatMessage["link"] {
  return ctx.runUrl ? { label: "Open the run in the web UI", url: ctx.runUrl(runId) } : undefined;
}

function withLink(m: ChatMessage, ctx: MessageContext, runId: string): ChatMessage {
  const link = linkOf(ctx, runId);
  return link ? { ...m, link } : m;
}

/** "slack:U1 via command `deploy:1.2.3`" — who started the run and how. */
export function startedBy(record: AuditRecord): string {
  const t = record.trigger;
  const how = t.type === "manual" ? (t.source ? `from ${t.source}` : "by hand")
    : t.type === "command" ? `by the message \`${t.text ?? ""}\`${t.source ? ` in ${t.source}` : ""}`
    : t.type === "schedule" ? `on schedule \`${t.source ?? ""}\``
    : `on file ${t.source ?? ""}`;
  return `${record.requested_by} ${how}`;
}

export function variablesText(vars: Record<string, VarValue>): string {
  const entries = Object.entries(vars);
  return entries.length ? entries.map(([k, v]) => `\`${k}=${String(v)}\``).join(" ") : "none";
}

/**
 * What the rest of the run will do, by the plan, for the steps that have not started. Planned
 * with the variables as the record shows them (redacted), as the web UI does, so that no
 * condition's explanation can print a secret the record hides.
 */
function forecast(def: SopDefinition, record: AuditRecord): Map<number, PlannedStep> {
  const plan = planRun(def, record.vars);
  return new Map(plan.steps.map((s) => [s.number, s]));
}

function stepLine(step: AuditStep, planned: PlannedStep | undefined): string {
  const head = `${STEP_ICON[step.status] ?? "▫️"} ${step.number}. ${noFences(step.title)}`;
  switch (step.status) {
    case "success": return `${head} — done${step.started_at !== null ? ` in ${duration(step.duration_ms)}` : ""}`;
    case "failed": return `${head} — failed${step.exit_code !== null ? ` (exit ${step.exit_code})` : ""}${step.reason ? `: ${step.reason}` : ""}`;
    case "skipped": return `${head} — skipped${step.reason ? `: ${step.reason}` : ""}`;
    case "running": return `${head} — running`;
    case "awaiting_approval": return `${head} — waiting for approval`;
    case "awaiting_manual": return `${head} — waiting for a person (Done / Failed)`;
    case "pending": return planned ? `${head} — ${planned.reason}` : `${head} — not started`;
    default: return `${head} — ${words(step.status)}${step.reason ? `: ${step.reason}` : ""}`;
  }
}

function stepLines(snapshot: RunSnapshot): string[] {
  const { stored, record } = snapshot;
  const plan = isTerminal(stored.run.status) ? new Map<number, PlannedStep>() : forecast(stored.definition, record);
  return record.steps.map((s) => stepLine(s, plan.get(s.number)));
}

function statusLine(snapshot: RunSnapshot): string {
  const { run } = snapshot.stored;
  const current = run.steps.find((s) => isActive(s.status));
  const at = current ? ` at step ${current.number} of ${run.steps.length}` : "";
  return `*${words(run.status)}*${at}${run.endReason ? ` — ${snapshot.record.end_reason ?? ""}` : ""}`;
}

/** The run's one progress message, edited as it goes. */
export function progressMessage(snapshot: RunSnapshot, ctx: MessageContext): ChatMessage {
  const { stored: { run }, record } = snapshot;
  return withLink(message({
    title: heading(run),
    text: `${run.sop} run ${shortId(run.id)}: ${words(run.status)}`,
    tone: RUN_TONE[run.status] ?? "info",
    lines: [statusLine(snapshot), ...stepLines(snapshot)],
    fields: [{ label: "Started", value: startedBy(record) }],
    footer: `run ${run.id}`,
  }), ctx, run.id);
}

function approvalOf(record: AuditRecord, cp: Checkpoint): AuditApproval | undefined {
  return record.approvals.find((a) => a.gate === cp.id);
}

function whoMay(cp: Checkpoint, def: SopDefinition): string {
  const people = cp.approvers.length ? cp.approvers.join(", ") : "anyone who may use the bot";
  const quorum = cp.minApprovals > 1 ? `; ${cp.minApprovals} distinct people` : "";
  const self = cp.allowSelfApproval ? "" : "; not the person who started the run";
  const admins = def.approval.approvers.length || cp.approvers.length ? " (and admins)" : "";
  return `${people}${admins}${quorum}${self}`;
}

function where(cp: Checkpoint, run: RunState): string {
  const step = cp.step !== undefined ? run.steps[cp.step - 1] : undefined;
  const stepText = step ? ` — step ${step.number} ${step.title}` : "";
  return `\`${cp.id}\`${stepText} (${cp.reason})`;
}

function decisionLine(cp: Checkpoint, a: AuditApproval | undefined): string {
  const when = a?.decided_at ? ` at ${utcText(a.decided_at)}` : "";
  const by = cp.by.join(", ");
  const comment = a?.comment ? `: ${noFences(a.comment)}` : "";
  const manual = cp.kind === "manual";
  switch (cp.status) {
    case "approved": return `${manual ? "✅ Marked done" : "✅ Approved"} by ${by}${when}${comment}`;
    case "denied": return `${manual ? "❌ Marked failed" : "❌ Denied"} by ${by}${when}${comment}`;
    case "timed_out": return `⌛ Timed out${when}: ${cp.onTimeout === "approve" ? "approved" : "denied"} by its on_timeout rule${by ? ` (approvals so far: ${by})` : ""}`;
    case "bypassed": return `⏩ Bypassed by ${by}${when}`;
    case "cancelled": return `⏹️ No longer needed: the run was cancelled or ended${when}`;
    case "notified": return "ℹ️ For information: this gate does not wait (required = false)";
    case "pending": return cp.by.length ? `⏳ ${cp.by.length} of ${cp.minApprovals} approvals so far: ${by}` : "⏳ Waiting for a decision";
  }
}

function decisionButtons(snapshot: RunSnapshot, cp: Checkpoint, index: number): ChatButton[] {
  if (cp.status !== "pending") return [];
  const { run, definition } = snapshot.stored;
  const manual = cp.kind === "manual";
  const approve: ChatButton = {
    id: buttonId({ action: "approve", runId: run.id, checkpoint: cp.id }, index),
    label: manual ? "Done" : "Approve", style: "primary",
  };
  if (definition.priority === "critical" && !manual) approve.confirm = criticalConfirm(run.sop, cp.id, run.id);
  const deny: ChatButton = { id: buttonId({ action: "deny", runId: run.id, checkpoint: cp.id }, index), label: manual ? "Failed" : "Deny", style: "danger" };
  return [approve, deny];
}

/** The request for one approval or manual step; after the decision it shows who and when, without buttons. */
export function checkpointMessage(snapshot: RunSnapshot, cp: Checkpoint, ctx: MessageContext): ChatMessage {
  const { stored: { run, definition }, record } = snapshot;
  const index = run.checkpoints.indexOf(cp);
  const a = approvalOf(record, cp);
  const manual = cp.kind === "manual";
  const pending = cp.status === "pending";
  const what = manual ? "Manual step" : cp.status === "notified" ? "Notice" : "Approval";
  const fields: ChatField[] = [
    { label: "Run", value: `\`${run.id}\`` },
    { label: "Started", value: startedBy(record) },
    { label: manual ? "Step" : "Gate", value: where(cp, run) },
    { label: manual ? "Who may answer" : "Who may approve", value: whoMay(cp, definition) },
    { label: "Variables", value: variablesText(record.vars) },
    { label: "Version", value: versionText({ version: run.version, definitionHash: run.definitionHash }) },
  ];
  if (cp.deadline !== undefined) fields.push({ label: "Deadline", value: `${utcText(cp.deadline)} (then ${cp.onTimeout === "approve" ? "approved" : "denied"} automatically)` });
  const lines = [decisionLine(cp, a)];
  if (pending) lines.push(...requestLines(approvalRequest(snapshot, cp, snapshot.changes?.get(cp.id))), "", "*Plan*", ...stepLines(snapshot));
  return withLink(message({
    title: `${what}${pending ? " needed" : ""}: ${run.sop} ${run.version}`,
    text: pending
      ? `${run.sop} run ${shortId(run.id)} waits at ${cp.id}${manual ? "" : " for approval"}`
      : `${run.sop} run ${shortId(run.id)}: ${cp.id} ${words(cp.status)}`,
    tone: pending ? "waiting" : cp.status === "approved" || cp.status === "notified" ? "success" : cp.status === "cancelled" ? "neutral" : "failure",
    lines,
    fields,
    // A refused click leaves the request as it was: the attempt is in the audit, not the channel.
    buttons: decisionButtons(snapshot, cp, index),
  }), ctx, run.id);
}

/** A thread reply for a finished step: status, exit code, time and the end of its output. */
export function stepDetailMessage(step: AuditStep): ChatMessage {
  const lines: string[] = [];
  if (step.reason) lines.push(step.reason);
  const output = step.output.trimEnd();
  if (output) {
    const tail = output.length > OUTPUT_TAIL ? `…${output.slice(-OUTPUT_TAIL)}` : output;
    lines.push("```", noFences(tail), "```");
  }
  const facts = [step.exit_code !== null ? `exit ${step.exit_code}` : "", step.started_at !== null ? duration(step.duration_ms) : ""].filter(Boolean).join(", ");
  return message({
    title: `${STEP_ICON[step.status] ?? ""} Step ${step.number} ${step.title}: ${words(step.status)}${facts ? ` (${facts})` : ""}`,
    tone: step.status === "success" ? "success" : step.status === "failed" ? "failure" : "neutral",
    lines,
  });
}

/** Steps worth a thread reply: those that ran (or were stopped), not the pending or skipped. */
export function finishedSteps(record: AuditRecord): AuditStep[] {
  return record.steps.filter((s) => s.status === "success" || s.status === "failed" || s.status === "cancelled");
}

function approvalsText(record: AuditRecord): string {
  const decided = record.approvals.filter((a) => a.decision !== "notified");
  if (decided.length === 0) return "none";
  return decided.map((a) => `\`${a.gate}\` ${words(a.decision)}${a.by.length ? ` by ${a.by.join(", ")}` : ""}`).join("; ");
}

/** The audit summary posted when the run ends. */
export function summaryMessage(snapshot: RunSnapshot, ctx: MessageContext): ChatMessage {
  const { stored: { run }, record } = snapshot;
  const m = record.metrics;
  const fields: ChatField[] = [
    { label: "Status", value: words(record.status) },
    { label: "Duration", value: duration(m.total_duration_ms) || "—" },
    { label: "Steps", value: `${m.steps_completed} completed, ${m.steps_skipped} skipped, ${m.steps_failed} failed (of ${record.steps.length})` },
    { label: "Approvals", value: approvalsText(record) },
    { label: "Started", value: startedBy(record) },
  ];
  if (m.approval_waits > 0) fields.push({ label: "Waited for people", value: duration(m.approval_wait_ms) });
  return withLink(message({
    title: `Audit summary: ${run.sop} ${run.version} · run ${shortId(run.id)} ${words(record.status)}`,
    text: `${run.sop} run ${shortId(run.id)} ended: ${words(record.status)}`,
    tone: RUN_TONE[record.status] ?? "info",
    lines: record.end_reason ? [record.end_reason] : [],
    fields,
    footer: `run ${run.id}${record.hash ? ` · audit hash ${record.hash.slice(0, 16)}…` : ""}`,
  }), ctx, run.id);
}
