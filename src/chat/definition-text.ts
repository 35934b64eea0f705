/**
 * An SOP definition as stable, readable text, one fact a line, for comparing two versions: the
 * raw SOP.toml and SOP.md are not stored with a run, only the parsed definition it pinned, so
 * this is what "the definition changed" is measured on.
 *
 * It covers what decides what runs and who may let it: the manifest's settings, the gates and,
 * per step, number, title, condition, flags and commands. Prose (descriptions, blocks shown but
 * never run, ZeroClaw metadata) and the version are left out: editing them changes nothing a run
 * does, and a diff full of reworded sentences would bury the one changed command. Variable
 * defaults whose names say they are secret are masked, as everywhere else.
 */
import { isSecretName } from "../core/secret-names.ts";
import { describeTrigger } from "../core/sop/describe-trigger.ts";
import type { ApprovalPolicy, Gate, SopDefinition, Step, VarValue } from "../core/sop/types.ts";

/** Lines of a step's body are indented (blank ones too); a line that is not starts a section (a setting, a gate, a step). */
const SECTION_INDENT = "    ";

const list = (items: readonly string[]): string => (items.length ? items.join(", ") : "none");

function value(name: string, v: VarValue, changedSecrets: ReadonlySet<string>): string {
  if (isSecretName(name)) return changedSecrets.has(name) ? "*** (changed)" : "***";
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function policyText(p: ApprovalPolicy): string {
  const who = p.approvers.length ? p.approvers.join(", ") : "anyone";
  const timeout = p.timeoutSecs > 0 ? `timeout ${p.timeoutSecs}s then ${p.onTimeout}` : "no timeout";
  return `${p.minApprovals} of ${who}, self-approval ${p.allowSelfApproval ? "allowed" : "refused"}, ${timeout}`;
}

function attachText(g: Gate): string {
  const a = g.attach;
  return "step" in a ? `${a.when === "pre" ? "before" : "after"} step ${a.step}` : a.when === "pre_run" ? "before the first step" : "after the last step";
}

function gateText(g: Gate): string {
  if (g.type === "approval") return `gate ${g.name}: approval ${attachText(g)}${g.required ? "" : " (notify only)"}, ${policyText(g.policy)}`;
  return `gate ${g.name}: verification ${attachText(g)}${g.timeoutSecs !== undefined ? `, timeout ${g.timeoutSecs}s` : ""}: ${g.command}`;
}

/** The step's attributes as SOP.md writes them: `[if: x, requires_approval: true]`. */
function attributes(s: Step): string {
  const attrs: string[] = [];
  if (s.condition) attrs.push(`if: ${s.condition.source}`);
  if (s.requiresApproval) attrs.push("requires_approval: true");
  if (s.manual) attrs.push("manual: true");
  if (s.timeoutSecs !== undefined) attrs.push(`timeout: ${s.timeoutSecs}`);
  if (s.retries) attrs.push(`retries: ${s.retries}`);
  if (s.continueOnError) attrs.push("continue_on_error: true");
  if (s.always) attrs.push("always: true");
  return attrs.length ? ` [${attrs.join(", ")}]` : "";
}

function stepLines(s: Step): string[] {
  const lines = [`step ${s.number}. ${s.title}${attributes(s)}`];
  s.commands.forEach((command, i) => {
    if (i > 0) lines.push("  then:");
    for (const line of command.replace(/\n+$/, "").split("\n")) lines.push(`${SECTION_INDENT}${line.trimEnd()}`);
  });
  return lines;
}

/**
 * `changedSecrets`: secret-named variables whose default differs from the version this text is
 * compared with. Their values stay masked, but the change shows (a masked value alone would
 * hide it, and a digest of it could give a weak secret away).
 */
export function definitionText(def: SopDefinition, changedSecrets: ReadonlySet<string> = new Set()): string {
  const lines = [
    `sop ${def.name}`,
    `priority: ${def.priority}`,
    `execution_mode: ${def.executionMode}`,
    `cooldown_secs: ${def.cooldownSecs}`,
    `max_concurrent: ${def.maxConcurrent}`,
    `timeout_secs: ${def.timeoutSecs ?? "none"}`,
    `workdir: ${def.workdir}`,
    ...Object.entries(def.vars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `var ${k} = ${value(k, v, changedSecrets)}`),
    `secrets: ${list([...def.secrets].sort())}`,
    `approval: ${policyText(def.approval)}`,
    `notify: slack ${list(def.notify.slack)}; discord ${list(def.notify.discord)}`,
    ...def.triggers.map((t) => `trigger: ${describeTrigger(t)}`),
    ...def.gates.map(gateText),
    ...def.steps.flatMap(stepLines),
  ];
  return `${lines.join("\n")}\n`;
}
