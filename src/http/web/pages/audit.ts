import type { AuditRecord } from "../../../core/audit/audit-record.ts";
import { badge } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";

export function auditPage(record: AuditRecord): SafeHtml {
  const id = seg(record.run_id);
  return html`<h1>Audit record <small class="muted">${record.sop}</small></h1>
<p class="meta"><a href="/runs/${id}">run <code>${record.run_id}</code></a> ${badge(record.status)}
  ${record.hash ? html`· sealed as #${record.seq ?? ""}, hash <code>${record.hash.slice(0, 16)}…</code>` : "· not sealed yet (the run has not ended)"}
  · <a class="button" href="/runs/${id}/audit.json" download>Download JSON</a></p>
<pre class="json">${JSON.stringify(record, null, 2)}</pre>`;
}
