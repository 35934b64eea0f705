/**
 * The audit record of a run (SPEC §4): the seed's field names, redacted, computed from the run
 * state alone so that rewriting it at every change and re-hashing it at the end agree.
 */
import type { SopDefinition, VarValue } from "../sop/types.ts";
import type { Checkpoint, RunState } from "../run/run-state.ts";
import { isSecretName } from "../secret-names.ts";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export type Redact = (text: string) => string;

export interface AuditStep {
  number: number; title: string; status: string; reason?: string;
  started_at: string | null; completed_at: string | null;
  /** 0 for a step that never ran (skipped, cancelled before it started) or still runs. */
  duration_ms: number;
  exit_code: number | null; output: string;
}

export interface AuditApproval {
  gate: string; kind: "approval" | "manual"; reason: string;
  requested_at: string | null; decided_at: string | null; deadline: string | null;
  decision: string;
  /** Who decided: the approvers of an approved gate, the one who denied a denied one. */
  by: string[];
  /** Everyone who gave an approval, also when a deny then ended the gate. */
  approved_by: string[];
  /** The comments (a deny's reason) as one text; with several people, each prefixed with who wrote it. */
  comment: string | null;
  comments: { by: string; at: string | null; text: string }[];
  min_approvals: number; approvers: string[];
  refused: { by: string; at: string | null; decision: string; reason: string }[];
}

export interface AuditRecord {
  sop: string; version: string; run_id: string; definition_hash: string;
  queued_at: string | null; started_at: string | null; completed_at: string | null;
  status: string; end_reason: string | null; priority: string; execution_mode: string;
  trigger: { type: string; source?: string; text?: string };
  requested_by: string; bypassed_by: string | null; cooldown_forced_by: string | null;
  vars: Record<string, VarValue>;
  steps: AuditStep[];
  approvals: AuditApproval[];
  verifications: { gate: string; status: string; started_at: string | null; completed_at: string | null; exit_code: number | null; output: string }[];
  metrics: {
    total_duration_ms: number | null; steps_completed: number; steps_skipped: number; steps_failed: number;
    approval_waits: number; approval_wait_ms: number; queue_wait_ms: number | null;
  };
  seq?: number; prev_hash?: string; hash?: string;
}

export function redactVars(vars: Record<string, VarValue>, redact: Redact): Record<string, VarValue> {
  const out: Record<string, VarValue> = {};
  for (const [name, value] of Object.entries(vars)) {
    out[name] = isSecretName(name) ? "***" : typeof value === "string" ? redact(value) : value;
  }
  return out;
}

/**
 * Values of the variables whose names say they are secret, to redact wherever they appear in
 * text (a condition's explanation, a step's reason). Values shorter than four characters are
 * left alone: masking every "1" or "yes" would make the record unreadable and hide nothing.
 */
export function secretNamedValues(vars: Record<string, VarValue>): string[] {
  return Object.entries(vars)
    .filter(([name, value]) => isSecretName(name) && String(value).length >= 4)
    .map(([, value]) => String(value));
}

function approvedBy(c: Checkpoint): string[] {
  if (c.status === "denied") return c.approvedBy ?? [];
  return c.status === "approved" || c.status === "pending" ? c.by.filter((id) => id !== "timeout") : [];
}

function commentsOf(c: Checkpoint, redact: Redact): Pick<AuditApproval, "comment" | "comments"> {
  const comments = (c.comments ?? []).map((m) => ({ by: m.by, at: iso(m.at), text: redact(m.text) }));
  const authors = new Set(comments.map((m) => m.by));
  const joined = authors.size > 1 ? comments.map((m) => `${m.by}: ${m.text}`).join("\n") : comments.map((m) => m.text).join("\n");
  const parts = [joined, c.comment === undefined ? "" : redact(c.comment)].filter((t) => t !== "");
  return { comment: parts.length > 0 ? parts.join("\n") : null, comments };
}

/** Approvals that held the run: asked of people, not bypassed or merely announced. */
function waited(c: Checkpoint): boolean {
  return c.kind === "approval" && c.status !== "bypassed" && c.status !== "notified";
}

export function auditRecord(def: SopDefinition, run: RunState, redact: Redact): AuditRecord {
  const started = run.startedAt ?? run.queuedAt;
  const trigger: AuditRecord["trigger"] = { type: run.trigger.type };
  if (run.trigger.source !== undefined) trigger.source = run.trigger.source;
  if (run.trigger.text !== undefined) trigger.text = redact(run.trigger.text);
  const approvalWaits = run.checkpoints.filter(waited);
  return {
    sop: run.sop,
    version: run.version,
    run_id: run.id,
    definition_hash: run.definitionHash,
    queued_at: iso(run.queuedAt),
    started_at: iso(started),
    completed_at: iso(run.completedAt),
    status: run.status,
    end_reason: run.endReason === undefined ? null : redact(run.endReason),
    priority: def.priority,
    execution_mode: def.executionMode,
    trigger,
    requested_by: run.requestedBy,
    bypassed_by: run.bypassedBy ?? null,
    cooldown_forced_by: run.cooldownForcedBy ?? null,
    vars: redactVars({ ...run.inputVars, ...run.outputVars }, redact),
    steps: run.steps.map((s) => {
      const step: AuditStep = {
        number: s.number, title: s.title, status: s.status,
        started_at: iso(s.startedAt), completed_at: iso(s.completedAt),
        duration_ms: s.startedAt !== undefined && s.completedAt !== undefined ? s.completedAt - s.startedAt : 0,
        exit_code: s.exitCode ?? null, output: redact(s.output),
      };
      if (s.reason !== undefined) step.reason = redact(s.reason);
      return step;
    }),
    approvals: run.checkpoints.map((c) => ({
      gate: c.id, kind: c.kind, reason: c.reason,
      requested_at: iso(c.requestedAt), decided_at: iso(c.decidedAt), deadline: iso(c.deadline),
      decision: c.status, by: c.by, approved_by: approvedBy(c), ...commentsOf(c, redact),
      min_approvals: c.minApprovals, approvers: c.approvers,
      refused: c.refused.map((r) => ({ by: r.by, at: iso(r.at), decision: r.decision, reason: r.reason })),
    })),
    verifications: run.verifications.map((v) => ({
      gate: v.gate, status: v.status, started_at: iso(v.startedAt), completed_at: iso(v.completedAt),
      exit_code: v.exitCode ?? null, output: redact(v.output),
    })),
    metrics: {
      total_duration_ms: run.completedAt !== undefined ? run.completedAt - started : null,
      steps_completed: run.steps.filter((s) => s.status === "success").length,
      steps_skipped: run.steps.filter((s) => s.status === "skipped").length,
      steps_failed: run.steps.filter((s) => s.status === "failed").length,
      approval_waits: approvalWaits.length,
      approval_wait_ms: approvalWaits.reduce((sum, c) => sum + ((c.decidedAt ?? c.requestedAt) - c.requestedAt), 0),
      queue_wait_ms: run.startedAt !== undefined ? run.startedAt - run.queuedAt : null,
    },
  };
}
