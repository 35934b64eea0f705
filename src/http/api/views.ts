/**
 * What the API shows of definitions, statuses and runs: plain JSON in the audit record's
 * snake_case, without condition trees or full run states.
 */
import type { SopStatus } from "../../app/sop-status.ts";
import { redactVars } from "../../core/audit/audit-record.ts";
import type { RunState } from "../../core/run/run-state.ts";
import type { SopDefinition } from "../../core/sop/types.ts";

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function definitionView(d: SopDefinition) {
  return {
    name: d.name, description: d.description, version: d.version, priority: d.priority,
    execution_mode: d.executionMode, cooldown_secs: d.cooldownSecs, max_concurrent: d.maxConcurrent,
    timeout_secs: d.timeoutSecs ?? null, workdir: d.workdir,
    vars: redactVars(d.vars, (t) => t),
    secrets: d.secrets,
    approval: policyView(d.approval),
    notify: d.notify,
    triggers: d.triggers,
    gates: d.gates.map((g) => (g.type === "approval"
      ? { name: g.name, type: g.type, required: g.required, approval: policyView(g.policy) }
      : { name: g.name, type: g.type, command: g.command, timeout_secs: g.timeoutSecs ?? null })),
    steps: d.steps.map((s) => ({
      number: s.number, title: s.title, slug: s.slug, description: s.description,
      commands: s.commands, shown: s.shown, condition: s.condition?.source ?? null,
      requires_approval: s.requiresApproval, manual: s.manual, timeout_secs: s.timeoutSecs ?? null,
      retries: s.retries, continue_on_error: s.continueOnError, always: s.always, metadata: s.metadata,
    })),
  };
}

function policyView(p: SopDefinition["approval"]) {
  return {
    approvers: p.approvers, min_approvals: p.minApprovals, allow_self_approval: p.allowSelfApproval,
    timeout_secs: p.timeoutSecs, on_timeout: p.onTimeout,
  };
}

/** A run in a list: who, what, where it stands, and what it waits for. */
export function runBrief(run: RunState) {
  const waiting = run.checkpoints.find((c) => c.status === "pending");
  return {
    run_id: run.id, sop: run.sop, version: run.version, status: run.status, priority: run.priority,
    trigger: { type: run.trigger.type, ...(run.trigger.source !== undefined ? { source: run.trigger.source } : {}) },
    requested_by: run.requestedBy,
    queued_at: iso(run.queuedAt), started_at: iso(run.startedAt), completed_at: iso(run.completedAt),
    steps: run.steps.length,
    steps_completed: run.steps.filter((s) => s.status === "success").length,
    waiting: waiting ? { gate: waiting.id, kind: waiting.kind, approvers: waiting.approvers, deadline: iso(waiting.deadline) } : null,
  };
}

export function statusView(s: SopStatus) {
  return {
    active: s.active.map(runBrief),
    queued: s.queued.map(runBrief),
    last: s.last ? runBrief(s.last) : null,
    cooldown_remaining_secs: s.cooldown_remaining_secs,
    metrics: s.metrics,
  };
}
