import { RUN_STATUSES, type RunState } from "../../../core/run/run-state.ts";
import { badge, duration, time } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";

export function runsTable(runs: readonly RunState[], showSop = true): SafeHtml {
  if (runs.length === 0) return html`<p class="empty">No runs.</p>`;
  return html`<div class="scroll"><table class="runs">
  <thead><tr><th>Run</th>${showSop ? html`<th>SOP</th>` : ""}<th>Status</th><th>Requested by</th><th>Trigger</th><th>Queued</th><th>Duration</th></tr></thead>
  <tbody>${runs.map((r) => html`<tr>
    <td><a href="/runs/${seg(r.id)}"><code>${r.id.slice(0, 8)}</code></a></td>
    ${showSop ? html`<td><a href="/sops/${seg(r.sop)}">${r.sop}</a></td>` : ""}
    <td>${badge(r.status)}</td>
    <td>${r.requestedBy}</td>
    <td>${r.trigger.type}</td>
    <td>${time(r.queuedAt)}</td>
    <td>${r.startedAt !== undefined && r.completedAt !== undefined ? duration(r.completedAt - r.startedAt) : ""}</td>
  </tr>`)}</tbody></table></div>`;
}

export interface RunFilters {
  sop?: string;
  status?: string;
}

/** /runs with these filters (and a cursor): every paging link keeps the same filters. */
function runsUrl(f: RunFilters, cursor?: string): string {
  const query = new URLSearchParams({ ...(f.sop ? { sop: f.sop } : {}), ...(f.status ? { status: f.status } : {}), ...(cursor !== undefined ? { cursor } : {}) });
  return `/runs?${query.toString()}`;
}

/** The link to the page after this one: the same filters, and the cursor the store gave. */
function olderLink(f: RunFilters, next: string): SafeHtml {
  return html`<nav class="pager"><a rel="next" href="${runsUrl(f, next)}">Older →</a></nav>`;
}

/** A page of history, newest first; `next` is the cursor of the older page (absent on the last). `paged`: this is not the first page. */
export function runListPage(o: { runs: RunState[]; next?: string | undefined; paged?: boolean; sops: string[]; filters: RunFilters }): SafeHtml {
  const f = o.filters;
  return html`<h1>Runs</h1>
<form class="filters" method="get" action="/runs">
  <label>SOP <select name="sop"><option value="">all</option>
    ${o.sops.map((s) => html`<option value="${s}"${f.sop === s ? html` selected` : ""}>${s}</option>`)}
  </select></label>
  <label>Status <select name="status"><option value="">all</option>
    <option value="waiting"${f.status === "waiting" ? html` selected` : ""}>waiting for a person</option>
    <option value="active"${f.status === "active" ? html` selected` : ""}>active</option>
    ${RUN_STATUSES.map((s) => html`<option value="${s}"${f.status === s ? html` selected` : ""}>${s.replace(/_/g, " ")}</option>`)}
  </select></label>
  <button type="submit">Filter</button>
</form>
${o.paged ? html`<p class="muted"><a href="${runsUrl(f)}">← Newest</a></p>` : ""}
${runsTable(o.runs)}
${o.next !== undefined ? olderLink(f, o.next) : ""}`;
}
