import type { AuditApproval, AuditRecord } from "../../../core/audit/audit-record.ts";
import type { ChainCheck } from "../audit-chain.ts";
import { badge, duration, time } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { gateLabel } from "./decision-panel.ts";

/** Outputs up to this many lines start unfolded. */
const SHORT_OUTPUT_LINES = 12;

function chainNote(record: AuditRecord, chain: ChainCheck): SafeHtml {
  if (!chain.checked) return html`<p class="muted">The chain of ${record.sop} was not checked: ${chain.why}.</p>`;
  if (chain.problems.length === 0) {
    return html`<p class="chain chain-ok" role="status">✔ The chain of ${record.sop} verifies: ${chain.sealed} sealed record${chain.sealed === 1 ? "" : "s"}, none edited, removed or out of order.</p>`;
  }
  return html`<div class="chain chain-bad" role="alert"><p><strong>✘ The chain of ${record.sop} does not verify</strong> (as <code>sop audit verify</code> says):</p>
  <ul>${chain.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`;
}

function approvalRow(record: AuditRecord, a: AuditApproval): SafeHtml {
  const by = a.decision === "denied" ? a.by : a.approved_by.length ? a.approved_by : a.by;
  return html`<tr><td>${gateLabel(record, a)} <small class="muted"><code>${a.gate}</code></small></td><td>${badge(a.decision)}</td>
    <td>${by.join(", ")}</td><td>${time(a.requested_at)}</td><td>${time(a.decided_at)}</td><td>${a.comment ?? ""}</td></tr>`;
}

/**
 * A run's audit record as people read it: what ran, who decided what and when, who was refused,
 * the metrics and the seal, with whether the SOP's chain verifies; the raw JSON one click away.
 */
export function auditPage(record: AuditRecord, chain: ChainCheck): SafeHtml {
  const id = seg(record.run_id);
  const m = record.metrics;
  const refused = record.approvals.flatMap((a) => a.refused.map((r) => ({ ...r, gate: a.gate })));
  const t = record.trigger;
  const json = JSON.stringify(record, null, 2);
  return html`<h1>Audit record <small class="muted">${record.sop} ${record.version}</small></h1>
<p class="meta"><a href="/runs/${id}">run <code>${record.run_id}</code></a> ${badge(record.status)}
  ${record.hash ? html`· sealed as #${record.seq ?? ""}, hash <code>${record.hash.slice(0, 16)}…</code>` : "· not sealed yet (the run has not ended)"}
  · <a class="button" href="/runs/${id}/audit.json" download>Download JSON</a></p>
${chainNote(record, chain)}
<dl class="facts">
  <div><dt>Status</dt><dd>${record.status.replace(/_/g, " ")}${record.end_reason ? ` — ${record.end_reason}` : ""}</dd></div>
  <div><dt>Requested by</dt><dd>${record.requested_by}</dd></div>
  <div><dt>Trigger</dt><dd>${t.type}${t.source ? ` from ${t.source}` : ""}${t.text ? html` (<code>${t.text}</code>)` : ""}</dd></div>
  <div><dt>Priority · mode</dt><dd>${record.priority} · ${record.execution_mode.replace(/_/g, " ")}</dd></div>
  <div><dt>Queued</dt><dd>${time(record.queued_at)}</dd></div>
  <div><dt>Started</dt><dd>${time(record.started_at)}</dd></div>
  <div><dt>Completed</dt><dd>${record.completed_at ? time(record.completed_at) : "not yet"}</dd></div>
  <div><dt>Definition</dt><dd><code>${record.definition_hash.slice(0, 16)}…</code></dd></div>
  ${record.bypassed_by ? html`<div><dt>Approvals bypassed by</dt><dd>${record.bypassed_by}</dd></div>` : ""}
  ${record.cooldown_forced_by ? html`<div><dt>Cooldown forced by</dt><dd>${record.cooldown_forced_by}</dd></div>` : ""}
</dl>
<section><h2>Steps</h2><div class="scroll"><table class="audit-steps">
  <thead><tr><th>#</th><th>Step</th><th>Status</th><th>Started</th><th>Took</th><th>Exit</th><th>Why</th></tr></thead>
  <tbody>${record.steps.map((s) => html`<tr data-step="${s.number}"><td>${s.number}</td><td>${s.title}</td><td>${badge(s.status)}</td>
    <td>${time(s.started_at)}</td><td>${s.started_at ? duration(s.duration_ms) : ""}</td><td>${s.exit_code ?? ""}</td><td>${s.reason ?? ""}</td></tr>
    ${s.output ? html`<tr class="output-row"><td></td><td colspan="6"><details${s.output.split("\n").length <= SHORT_OUTPUT_LINES ? html` open` : ""}><summary>Output of step ${s.number}</summary><pre class="output">${s.output}</pre></details></td></tr>` : ""}`)}</tbody>
</table></div></section>
<section><h2>Approvals</h2>${record.approvals.length ? html`<div class="scroll"><table class="audit-approvals">
  <thead><tr><th>Gate</th><th>Decision</th><th>By</th><th>Requested</th><th>Decided</th><th>Comment</th></tr></thead>
  <tbody>${record.approvals.map((a) => approvalRow(record, a))}</tbody></table></div>` : html`<p class="muted">None.</p>`}
${refused.length ? html`<h3>Refused attempts</h3><ul class="refused">${refused.map((r) => html`<li>${time(r.at)} · <code>${r.gate}</code> · ${r.by} tried to ${r.decision}: ${r.reason}</li>`)}</ul>` : ""}
</section>
${record.verifications.length ? html`<section><h2>Verifications</h2><ul>${record.verifications.map((v) => html`<li><code>${v.gate}</code> ${badge(v.status)}${v.exit_code !== null ? ` exit ${v.exit_code}` : ""}</li>`)}</ul></section>` : ""}
<section><h2>Metrics</h2><dl class="facts">
  <div><dt>Total</dt><dd>${duration(m.total_duration_ms) || "—"}</dd></div>
  <div><dt>Steps</dt><dd>${m.steps_completed} completed · ${m.steps_skipped} skipped · ${m.steps_failed} failed</dd></div>
  <div><dt>Waited for people</dt><dd>${m.approval_waits} time${m.approval_waits === 1 ? "" : "s"}, ${duration(m.approval_wait_ms) || "0 ms"}</dd></div>
  <div><dt>Queued for</dt><dd>${duration(m.queue_wait_ms) || "—"}</dd></div>
</dl></section>
<section><h2>Variables</h2>${Object.keys(record.vars).length ? html`<div class="scroll"><table class="vars">
  <tbody>${Object.entries(record.vars).map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td><code>${String(v)}</code></td></tr>`)}</tbody></table></div>` : html`<p class="muted">None.</p>`}</section>
<section><h2>Seal</h2>${record.hash ? html`<dl class="facts seal">
  <div><dt>Seq</dt><dd>${record.seq ?? ""}</dd></div>
  <div class="wide"><dt>Previous hash</dt><dd><code>${record.prev_hash ?? ""}</code></dd></div>
  <div class="wide"><dt>Hash</dt><dd><code>${record.hash}</code></dd></div>
</dl>` : html`<p class="muted">Not sealed yet: the record is sealed into ${record.sop}'s chain when the run ends.</p>`}</section>
<details class="raw"><summary>Raw JSON</summary><pre class="json">${json}</pre></details>`;
}
