import type { AuditApproval, AuditRecord } from "../../../core/audit/audit-record.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { decisionPanel } from "./decision-panel.ts";

export function approvalsPage(o: { waiting: { record: AuditRecord; approval: AuditApproval }[]; csrf: string }): SafeHtml {
  return html`<h1>Pending approvals</h1>
${o.waiting.length === 0 ? html`<p class="empty">Nothing is waiting for a decision.</p>` : ""}
${o.waiting.map(({ record, approval }) => html`<article class="pending">
  <h2 class="small"><a href="/sops/${seg(record.sop)}">${record.sop}</a> · <a href="/runs/${seg(record.run_id)}">run <code>${record.run_id.slice(0, 8)}</code></a></h2>
  ${decisionPanel(record, approval, o.csrf, "approvals")}
</article>`)}`;
}
