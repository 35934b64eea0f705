import type { ApprovalRequest } from "../../../chat/approval-request.ts";
import type { AuditApproval, AuditRecord } from "../../../core/audit/audit-record.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { decisionPanel } from "./decision-panel.ts";

export interface Waiting {
  record: AuditRecord;
  approval: AuditApproval;
  request?: ApprovalRequest | undefined;
}

/** One card per waiting run: the step it waits at, what the decision lets run, the variables, and the buttons. */
export function approvalsPage(o: { waiting: Waiting[]; csrf: string }): SafeHtml {
  return html`<h1>Pending approvals</h1>
${o.waiting.length === 0 ? html`<p class="empty">Nothing is waiting for a decision.</p>` : ""}
${o.waiting.map(({ record, approval, request }) => html`<article class="pending" data-run="${record.run_id}">
  <h2 class="small"><a href="/sops/${seg(record.sop)}">${record.sop}</a> · <a href="/runs/${seg(record.run_id)}">run <code>${record.run_id.slice(0, 8)}</code></a></h2>
  ${decisionPanel(record, approval, o.csrf, { back: "approvals", ...(request ? { request } : {}), mode: "card" })}
</article>`)}`;
}
