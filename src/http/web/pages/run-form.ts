import type { SopDefinition } from "../../../core/sop/types.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { seconds } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";

/** Field-name prefix of a variable in the run form (`var.version`). */
export const VAR_PREFIX = "var.";

/**
 * Start a run: one input per `[vars]` default, plus free `name=value` lines for others.
 * Collapsed in the SOP list (a `<details>`, no script needed), open on the SOP's own page.
 * `cooldown`: the SOP cools down and the person is an admin, who may start it anyway.
 */
export function runForm(def: SopDefinition, csrf: string, open: boolean, cooldown?: { secsLeft: number }): SafeHtml {
  const vars = Object.entries(def.vars);
  const form = html`<form class="run-form" method="post" action="/sops/${seg(def.name)}/run">
    <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
    ${vars.map(([name, value], i) => html`<label for="v-${def.name}-${i}">${name}</label>
    <input id="v-${def.name}-${i}" name="${VAR_PREFIX}${name}" value="${String(value)}" autocomplete="off">`)}
    <label for="x-${def.name}">More variables <small>(one <code>name=value</code> a line)</small></label>
    <textarea id="x-${def.name}" name="extra" rows="2" autocomplete="off"></textarea>
    <button type="submit" class="primary">Start ${def.name}</button>
    ${cooldown ? html`<p class="muted">${def.name} cools down for ${seconds(cooldown.secsLeft)} more. As an admin you may start it anyway; its audit record says you did.</p>
    <button type="submit" name="force" value="yes" class="subtle">Start anyway</button>` : ""}
  </form>`;
  return open ? form : html`<details class="run"><summary class="button primary">Run…</summary>${form}</details>`;
}
