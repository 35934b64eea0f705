/**
 * The request's content on a page (the approvals cards and the run page): the version and the
 * variables, what the SOP changed since this gate was last passed, and what runs once it is
 * decided. The model and its words are chat's (src/chat/approval-request.ts), so a request says
 * the same in Slack, Discord and here. A card folds long commands and diffs, pointing to the run
 * page; the run page shows them whole.
 */
import {
  changeHeading, diffLineText, foldText, gateItemTitle, moreChangesText, moreItemsText, moreLinesText, nextHeading,
  onRunPage, thenText, tooLargeNote, versionText, type ApprovalRequest, type NextItem,
} from "../../../chat/approval-request.ts";
import { foldDiff, type DefinitionChange } from "../../../chat/definition-change.ts";
import { html, seg, type SafeHtml } from "../html.ts";

export type RequestMode = "card" | "full";

const LIMITS = {
  card: { commandLines: 15, commandChars: 1500, changedLines: 20, items: 8 },
  full: { commandLines: 40, commandChars: 4000, changedLines: 500, items: Infinity },
} as const;

function command(text: string, mode: RequestMode, key: string): SafeHtml {
  const folded = foldText(text, LIMITS[mode].commandLines, LIMITS[mode].commandChars);
  const more = moreLinesText(folded);
  if (!more) return html`<pre class="code">${text}</pre>`;
  return html`<pre class="code">${folded.shown}</pre>
    <details class="more" data-key="${key}"><summary>${more}: the whole command</summary><pre class="code">${text}</pre></details>`;
}

function item(i: NextItem, mode: RequestMode, index: number): SafeHtml {
  if (i.kind === "gate") {
    return html`<li class="next gate"><div class="step-head"><strong>${gateItemTitle(i)}</strong></div>${command(i.command, mode, `cmd-g${index}`)}</li>`;
  }
  return html`<li class="next f-${i.forecast}" data-step="${i.number}">
    <div class="step-head"><span class="num">${i.number}</span> <strong>${i.title}</strong>${i.manual ? html` <span class="tag">manual</span>` : ""}</div>
    ${i.note ? html`<p class="why">${i.note}</p>` : ""}
    ${i.description ? html`<p class="desc">${i.description}</p>` : ""}
    ${i.forecast === "skipped" ? "" : i.commands.map((c, n) => command(c, mode, `cmd-${i.number}-${n}`))}
  </li>`;
}

function changeSection(c: DefinitionChange, mode: RequestMode, runHref: string): SafeHtml {
  if (c.tooLarge) return html`<div class="change" role="note"><p><strong>${changeHeading(c)}</strong></p><p>${tooLargeNote()}</p></div>`;
  const { shown, more } = foldDiff(c.lines, LIMITS[mode].changedLines);
  const rest = more === 0 ? "" : mode === "card"
    ? html`<p class="muted"><a href="${runHref}">${onRunPage(moreChangesText(more))}</a></p>`
    : html`<p class="muted">${moreChangesText(more)}</p>`;
  return html`<div class="change" role="note"><p><strong>${changeHeading(c)}</strong></p>
  <pre class="diff">${shown.map((l) => html`<span class="d-${l.kind}">${diffLineText(l)}\n</span>`)}</pre>${rest}</div>`;
}

export function requestSection(r: ApprovalRequest, mode: RequestMode): SafeHtml {
  const runHref = `/runs/${seg(r.runId)}`;
  const vars = Object.entries(r.vars);
  const items = r.next.slice(0, LIMITS[mode].items);
  const left = r.next.length - items.length;
  return html`<dl class="facts">
    <div class="wide"><dt>SOP version</dt><dd>${r.sop} ${versionText(r)}</dd></div>
    <div class="wide"><dt>Variables</dt><dd class="vars">${vars.length ? vars.map(([k, v]) => html`<code>${k}=${String(v)}</code> `) : "none"}</dd></div>
  </dl>
  ${r.change ? changeSection(r.change, mode, runHref) : ""}
  <section class="runs-next" aria-label="${nextHeading(r)}">
    <h3>${nextHeading(r)}</h3>
    ${items.length ? html`<ol class="next">${items.map((i, n) => item(i, mode, n))}</ol>` : ""}
    ${left > 0 ? html`<p class="muted"><a href="${runHref}">${onRunPage(moreItemsText(left))}</a></p>` : ""}
    <p class="then">${thenText(r)}</p>
  </section>`;
}
