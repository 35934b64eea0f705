import type { SopStatus } from "../../../app/sop-status.ts";
import type { Plan } from "../../../core/plan/plan-run.ts";
import type { RunState } from "../../../core/run/run-state.ts";
import type { Gate, SopDefinition, Step } from "../../../core/sop/types.ts";
import { duration, percent, seconds, triggerText, who } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { runForm } from "./run-form.ts";
import { runsTable } from "./run-list.ts";

function stepFlags(s: Step): SafeHtml {
  const flags: string[] = [];
  if (s.requiresApproval) flags.push("requires approval");
  if (s.manual) flags.push("manual");
  if (s.always) flags.push("always");
  if (s.continueOnError) flags.push("continue on error");
  if (s.retries) flags.push(`retries ${s.retries}`);
  if (s.timeoutSecs !== undefined) flags.push(`timeout ${seconds(s.timeoutSecs)}`);
  return html`${s.condition ? html`<code class="cond">if: ${s.condition.source}</code> ` : ""}${flags.map((f) => html`<span class="tag">${f}</span> `)}`;
}

function gateText(g: Gate): SafeHtml {
  if (g.type === "verification") return html`<code>${g.name}</code> verification: <code>${g.command}</code>`;
  return html`<code>${g.name}</code> approval${g.required ? "" : " (notify only)"} — ${g.policy.minApprovals} of ${who(g.policy.approvers)}`;
}

const DECISION_WORDS: Readonly<Record<string, string>> = { run: "runs", skip: "skips", approval: "waits for approval", manual: "waits for a person" };

export function planTable(plan: Plan): SafeHtml {
  return html`<div class="scroll"><table class="plan">
  <thead><tr><th>#</th><th>Step</th><th>Plan</th><th>Why</th></tr></thead>
  <tbody>${plan.steps.map((s) => html`<tr class="d-${s.decision}"><td>${s.number}</td><td>${s.title}</td><td>${DECISION_WORDS[s.decision] ?? s.decision}${s.certain ? "" : html` <span class="tag" title="an earlier step may set a variable this decision reads">unsure</span>`}</td><td>${s.reason}</td></tr>`)}</tbody>
  </table></div>`;
}

/** `admin`: the signed-in identity may start the SOP during its cooldown. */
export function sopDetailPage(o: { def: SopDefinition; status: SopStatus; plan: Plan; runs: RunState[]; csrf: string; admin: boolean }): SafeHtml {
  const { def: d, status: s } = o;
  const a = d.approval;
  return html`<h1>${d.name} <small class="muted">v${d.version}</small></h1>
<p class="lead">${d.description}</p>
<dl class="facts">
  <div><dt>Priority</dt><dd>${d.priority}</dd></div>
  <div><dt>Mode</dt><dd>${d.executionMode.replace(/_/g, " ")}</dd></div>
  <div><dt>Cooldown</dt><dd>${seconds(d.cooldownSecs)}${s.cooldown_remaining_secs > 0 ? ` (${seconds(s.cooldown_remaining_secs)} left)` : ""}</dd></div>
  <div><dt>Max concurrent</dt><dd>${d.maxConcurrent}</dd></div>
  <div><dt>Run timeout</dt><dd>${d.timeoutSecs !== undefined ? seconds(d.timeoutSecs) : "none"}</dd></div>
  <div><dt>Approvers</dt><dd>${who(a.approvers)} · ${a.minApprovals} needed${a.allowSelfApproval ? "" : " · no self-approval"}${a.timeoutSecs ? ` · ${a.onTimeout} after ${seconds(a.timeoutSecs)}` : ""}</dd></div>
  <div><dt>Success rate</dt><dd>${percent(s.metrics.success_rate)}${s.metrics.runs ? ` of ${s.metrics.runs}` : ""}</dd></div>
  <div><dt>Duration p50 / p95</dt><dd>${duration(s.metrics.duration_p50_ms) || "—"} / ${duration(s.metrics.duration_p95_ms) || "—"}</dd></div>
  <div><dt>Triggers</dt><dd>${d.triggers.length ? d.triggers.map((t) => html`<code>${triggerText(t)}</code> `) : "manual only"}</dd></div>
</dl>
<section class="card"><h2>Run</h2>${runForm(d, o.csrf, true, o.admin && s.cooldown_remaining_secs > 0 ? { secsLeft: s.cooldown_remaining_secs } : undefined)}</section>
<section><h2>Steps</h2>
<ol class="definition">${d.steps.map((st) => html`<li>
  <h3>${st.title}</h3> ${stepFlags(st)}
  ${st.description ? html`<p>${st.description}</p>` : ""}
  ${st.commands.map((c) => html`<pre class="code">${c}</pre>`)}
  ${st.shown.map((c) => html`<pre class="code shown" title="${c.lang} (shown, never run)">${c.code}</pre>`)}
</li>`)}</ol>
${d.gates.length ? html`<h3>Gates</h3><ul>${d.gates.map((g) => html`<li>${gateText(g)}</li>`)}</ul>` : ""}
</section>
<section><h2>Plan with the default variables</h2>
<p class="muted">Assumes every step succeeds and no step output sets a variable (as <code>sop plan</code>).</p>
${planTable(o.plan)}
</section>
<section><h2>Recent runs</h2>${runsTable(o.runs, false)}<p><a href="/runs?sop=${seg(d.name)}">All runs of ${d.name} →</a></p></section>`;
}
