import type { ApprovalRequest } from "../../../chat/approval-request.ts";
import type { AuditRecord, AuditStep } from "../../../core/audit/audit-record.ts";
import type { Plan, PlannedStep } from "../../../core/plan/plan-run.ts";
import { badge, duration, time } from "../format.ts";
import { documentTitle, html, type SafeHtml } from "../html.ts";
import { decisionPanel, gateLabel, pendingApproval } from "./decision-panel.ts";
import { isTerminal } from "../../../core/run/run-state.ts";

const SETTLED = new Set(["success", "failed", "skipped", "cancelled", "bypassed"]);
/** Outputs up to this many lines start unfolded. */
const SHORT_OUTPUT_LINES = 20;

function stepItem(s: AuditStep, planned: PlannedStep | undefined): SafeHtml {
  const settled = SETTLED.has(s.status);
  const note = settled || s.status !== "pending" || !planned
    ? s.reason
    : `Plan: ${planned.reason}`;
  const open = s.status === "failed" || s.output.split("\n").length <= SHORT_OUTPUT_LINES;
  return html`<li class="step s-${s.status}" data-step="${s.number}" data-status="${s.status}">
  <div class="step-head"><span class="num">${s.number}</span> <strong>${s.title}</strong> ${badge(s.status)}
    <span class="muted">${s.started_at === null ? "" : duration(s.duration_ms)}${s.exit_code !== null && s.exit_code !== 0 ? ` · exit ${s.exit_code}` : ""}</span></div>
  ${note ? html`<p class="why${settled ? "" : " plan"}">${note}</p>` : ""}
  ${s.output ? html`<details data-key="out-${s.number}"${open ? html` open` : ""}><summary>Output</summary><pre class="output">${s.output}</pre></details>` : ""}
</li>`;
}

/** A run page's title, which follows its status: "deploy-production awaiting approval". */
export function runTitle(record: AuditRecord): string {
  return `${record.sop} ${record.status.replace(/_/g, " ")}`;
}

/**
 * Everything on a run page that changes while it runs. The page's script re-fetches this
 * fragment on every server-sent event for the run and swaps it in, and takes the page's title
 * from `data-page-title`.
 */
export function runLive(record: AuditRecord, plan: Plan | undefined, csrf: string, request?: ApprovalRequest): SafeHtml {
  const pending = pendingApproval(record);
  const decided = record.approvals.filter((a) => a.decision !== "pending");
  const m = record.metrics;
  const active = !isTerminal(record.status);
  return html`<div class="summary" data-page-title="${documentTitle(runTitle(record))}">${badge(record.status)}
  ${record.end_reason ? html`<span>${record.end_reason}</span>` : ""}
  <span class="muted">${m.steps_completed} done · ${m.steps_skipped} skipped · ${m.steps_failed} failed${m.total_duration_ms !== null ? ` · ${duration(m.total_duration_ms)}` : ""}</span>
</div>
${pending ? decisionPanel(record, pending, csrf, request ? { request, mode: "full" } : {}) : ""}
<section><h2>Steps</h2>
<ol class="steps" id="steps">${record.steps.map((s) => stepItem(s, plan?.steps.find((p) => p.number === s.number)))}</ol>
${active && plan ? html`<p class="muted small">Plans for steps still to come assume no further step output sets a variable.</p>` : ""}
</section>
${record.verifications.length ? html`<section><h2>Verifications</h2><ul>${record.verifications.map((v) => html`<li>${v.gate} ${badge(v.status)}${v.output ? html`<pre class="output">${v.output}</pre>` : ""}</li>`)}</ul></section>` : ""}
${decided.length ? html`<section><h2>Decisions</h2><div class="scroll"><table>
  <thead><tr><th>Gate</th><th>Decision</th><th>By</th><th>Comment</th><th>When</th><th>Refused</th></tr></thead>
  <tbody>${decided.map((a) => html`<tr><td>${gateLabel(record, a)}</td><td>${badge(a.decision)}</td><td>${a.by.join(", ")}</td><td>${a.comment ?? ""}</td><td>${time(a.decided_at)}</td>
    <td>${a.refused.map((r) => `${r.by}: ${r.reason}`).join("; ")}</td></tr>`)}</tbody></table></div></section>` : ""}
<section><h2>Variables</h2>${Object.keys(record.vars).length ? html`<div class="scroll"><table class="vars">
  <tbody>${Object.entries(record.vars).map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td><code>${String(v)}</code></td></tr>`)}</tbody></table></div>` : html`<p class="muted">None.</p>`}
</section>`;
}
