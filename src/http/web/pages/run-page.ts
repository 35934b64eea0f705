import type { ApprovalRequest } from "../../../chat/approval-request.ts";
import type { AuditRecord } from "../../../core/audit/audit-record.ts";
import type { Plan } from "../../../core/plan/plan-run.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { time } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { runLive } from "./run-live.ts";
import { isTerminal } from "../../../core/run/run-state.ts";


/**
 * A run: header, then the live region (#live) that app.js keeps current through the run's
 * event stream; `data-final` tells it when there is nothing more to wait for.
 */
export function runPage(record: AuditRecord, plan: Plan | undefined, csrf: string, request?: ApprovalRequest): SafeHtml {
  const id = seg(record.run_id);
  const final = isTerminal(record.status);
  const trigger = record.trigger;
  return html`<h1><a href="/sops/${seg(record.sop)}">${record.sop}</a> <small class="muted">run <code>${record.run_id}</code></small></h1>
<p class="meta">v${record.version} · ${record.priority} · ${record.execution_mode.replace(/_/g, " ")} ·
  requested by ${record.requested_by} · ${trigger.type}${trigger.source ? ` from ${trigger.source}` : ""}${trigger.text ? html` (<code>${trigger.text}</code>)` : ""} ·
  queued ${time(record.queued_at)} · <a href="/runs/${id}/audit">Audit record</a></p>
<div id="live" data-events="/runs/${id}/events" data-fragment="/runs/${id}/live" data-final="${final ? "true" : "false"}" aria-live="polite">
${runLive(record, plan, csrf, request)}
</div>
${final ? "" : html`<form method="post" action="/runs/${id}/cancel" class="cancel">
  <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
  <button type="submit" class="deny subtle">Cancel this run</button>
</form>`}`;
}
