import type { SopStatus } from "../../../app/sop-status.ts";
import type { Diagnostic, SopDefinition } from "../../../core/sop/types.ts";
import { percent, seconds, triggerText } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { runForm } from "./run-form.ts";

export interface SopRow {
  definition: SopDefinition;
  status: SopStatus;
}

export function sopListPage(o: { rows: SopRow[]; pending: number; diagnostics: Diagnostic[]; csrf: string }): SafeHtml {
  const errors = o.diagnostics.filter((d) => d.severity === "error");
  return html`<h1>SOPs</h1>
${o.pending > 0 ? html`<p class="notice"><a href="/approvals">${o.pending} run${o.pending > 1 ? "s" : ""} waiting for a decision →</a></p>` : ""}
${errors.length > 0 ? html`<details class="problems"><summary>${errors.length} SOP problem${errors.length > 1 ? "s" : ""} (the last good version stays loaded)</summary>
  <ul>${errors.map((d) => html`<li><code>${d.file}:${d.line}:${d.column}</code> ${d.message}</li>`)}</ul></details>` : ""}
${o.rows.length === 0 ? html`<p>No SOPs loaded. Add a folder with <code>SOP.toml</code> and <code>SOP.md</code> to <code>SOPS_DIR</code>.</p>` : ""}
<ul class="sops">
${o.rows.map(({ definition: d, status: s }) => html`<li class="card sop">
  <div class="sop-head">
    <h2><a href="/sops/${seg(d.name)}">${d.name}</a></h2>
    <span class="tag p-${d.priority}">${d.priority}</span> <span class="tag">${d.executionMode.replace(/_/g, " ")}</span>
  </div>
  <p>${d.description}</p>
  <dl class="facts">
    <div><dt>Triggers</dt><dd>${d.triggers.length ? d.triggers.map((t) => html`<code>${triggerText(t)}</code> `) : "manual only"}</dd></div>
    <div><dt>Cooldown left</dt><dd>${seconds(s.cooldown_remaining_secs)}</dd></div>
    <div><dt>Success rate</dt><dd>${percent(s.metrics.success_rate)}${s.metrics.runs ? ` of ${s.metrics.runs}` : ""}</dd></div>
    <div><dt>Active</dt><dd>${s.active.length}${s.queued.length ? ` (+${s.queued.length} queued)` : ""}</dd></div>
  </dl>
  ${runForm(d, o.csrf, false)}
</li>`)}
</ul>`;
}
