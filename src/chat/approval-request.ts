/**
 * What an approval (or manual step) request shows beyond who may decide: what the decision lets
 * run — the steps from the checkpoint up to the next wait, with their commands — the run's
 * variables, the SOP version and, when the SOP changed since this gate was last passed, how. Slack
 * and Discord (through run-messages.ts) and the web UI render this one model, with these words.
 *
 * Built from the run's pinned definition and its redacted audit record: conditions are
 * forecast with the record's variables (secrets already `***`), never the run's own, and
 * commands are the SOP's text, into which no variable is ever substituted (SPEC §2.3).
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { conditionVariables } from "../core/conditions/evaluate-condition.ts";
import { isWaiting, type Checkpoint, type RunState } from "../core/run/run-state.ts";
import { isBuiltinVariable } from "../core/run/run-variables.ts";
import { approvalsBefore, decideStep, gatesOf, runGates } from "../core/run/step-decision.ts";
import type { Gate, SopDefinition, Step, VarValue } from "../core/sop/types.ts";
import type { StoredRun } from "../ports/run-store.ts";
import type { DefinitionChange, DiffLine } from "./definition-change.ts";
import { plural, utcText } from "../core/format.ts";

export type NextItem =
  | {
      kind: "step"; number: number; title: string; description: string; manual: boolean;
      /** `unsure`: its condition reads a variable an earlier step of this stretch may still set. */
      forecast: "runs" | "unsure" | "skipped";
      /** Why it runs or not, when there is something to say. */
      note: string;
      commands: string[];
    }
  | { kind: "gate"; gate: string; command: string };

export interface ApprovalRequest {
  sop: string;
  runId: string;
  version: string;
  definitionHash: string;
  checkpoint: string;
  manual: boolean;
  /** Approving asks "are you sure?" first. */
  critical: boolean;
  /** "before step 3 · Deploy to Staging", "gate pre_patch · before step 2 · Apply Patch". */
  where: string;
  /** What runs once this is decided, in order, up to the next wait. */
  next: NextItem[];
  /** The next wait, or the end. */
  then: string;
  vars: Record<string, VarValue>;
  change?: DefinitionChange;
}


/** A checkpoint as people name it; the definition says where a gate sits. */
function checkpointLabel(def: SopDefinition, id: string): string {
  const [kind, rest = ""] = id.split(":", 2);
  const step = (n: number) => `step ${n} · ${def.steps[n - 1]?.title ?? ""}`;
  if (kind === "step") return `before ${step(Number(rest))}`;
  if (kind === "manual") return step(Number(rest));
  if (kind === "gate") {
    const gate = def.gates.find((g) => g.name === rest);
    const a = gate?.attach;
    if (!a) return `gate ${rest}`;
    if ("step" in a) return `gate ${rest} · ${a.when === "pre" ? "before" : "after"} ${step(a.step)}`;
    return `gate ${rest} · ${a.when === "pre_run" ? "before the first step" : "after the last step"}`;
  }
  return "before the first step";
}

/** The condition's variables that are unset while a step listed before may still set them. */
function openVariables(step: Step, vars: Record<string, VarValue>, before: readonly NextItem[]): string[] {
  if (!step.condition) return [];
  if (!before.some((i) => i.kind === "step" && i.forecast !== "skipped" && i.commands.length > 0)) return [];
  return conditionVariables(step.condition.ast).filter((n) => !isBuiltinVariable(n) && vars[n] === undefined);
}

/**
 * Walks the run on from where it waits, as the state machine would with every command
 * succeeding, every approval given and no step output (so a condition on an output still to come
 * is `unsure`), and stops at the first approval or manual step that would wait again.
 */
function forecast(def: SopDefinition, stored: StoredRun, record: AuditRecord, cp: Checkpoint): { next: NextItem[]; then: string } {
  const run: RunState = structuredClone({ ...stored.run, inputVars: record.vars, outputVars: {} });
  const next: NextItem[] = [];
  const asked = (id: string) => run.checkpoints.some((c) => c.id === id);
  const gates = (list: readonly Gate[]): string | undefined => {
    for (const g of list) {
      if (g.type === "verification") {
        if (!run.verifications.some((v) => v.gate === g.name)) next.push({ kind: "gate", gate: g.name, command: g.command });
      } else if (g.required && !asked(`gate:${g.name}`)) {
        return `the run waits for approval at ${checkpointLabel(def, `gate:${g.name}`)}`;
      }
    }
    return undefined;
  };
  let then = gates(runGates(def, "pre_run"));
  for (const step of def.steps) {
    const state = run.steps[step.number - 1];
    if (then || !state) break;
    if (state.status === "pending" || isWaiting(state.status)) {
      const base = { kind: "step" as const, number: step.number, title: step.title, description: step.description, manual: step.manual, commands: step.commands };
      if (cp.kind === "manual" && cp.step === step.number) {
        next.push({ ...base, forecast: "runs", note: "the step to do, then mark it Done or Failed" });
      } else {
        const decision = decideStep(def, run, step);
        const open = openVariables(step, run.inputVars, next);
        if (!decision.run && open.length === 0) {
          next.push({ ...base, forecast: "skipped", note: `skipped: ${decision.reason}` });
          state.status = "skipped";
          continue;
        }
        const label = `step ${step.number} · ${step.title}`;
        const approval = approvalsBefore(def, step).find((a) => !asked(a.id));
        then = gates(gatesOf(def, "pre", step.number))
          ?? (approval ? `the run waits for approval before ${label} (${approval.reason})` : undefined)
          ?? (step.manual ? `${label} waits for a person to do it (manual step)` : undefined);
        if (then) {
          if (open.length) then = `${then}, if step ${step.number} runs (it depends on ${open.join(" or ")})`;
          break;
        }
        const note = open.length
          ? `runs ${decision.run ? "unless" : "only if"} an earlier step sets ${open.join(" or ")}`
          : step.condition ? `runs: ${decision.reason}` : "";
        next.push({ ...base, forecast: open.length ? "unsure" : "runs", note });
      }
      state.status = "success";
    }
    if (state.status === "success" || state.status === "bypassed") then = gates(gatesOf(def, "post", step.number));
  }
  then ??= gates(runGates(def, "post_run")) ?? "the run ends";
  return { next, then };
}

/** The request for checkpoint `cp` of the run as it stands. */
export function approvalRequest(snapshot: { stored: StoredRun; record: AuditRecord }, cp: Checkpoint, change?: DefinitionChange): ApprovalRequest {
  const { stored, record } = snapshot;
  const def = stored.definition;
  const manual = cp.kind === "manual";
  return {
    sop: stored.run.sop, runId: stored.run.id, version: stored.run.version, definitionHash: stored.run.definitionHash,
    checkpoint: cp.id, manual, critical: def.priority === "critical" && !manual,
    where: checkpointLabel(def, cp.id),
    ...forecast(def, stored, record, cp),
    vars: record.vars,
    ...(change ? { change } : {}),
  };
}

// The words, shared by chat and the web UI.

export function nextHeading(r: ApprovalRequest): string {
  return r.manual ? "The step, and what runs when it is marked Done" : "What runs after approval";
}

export function thenText(r: ApprovalRequest): string {
  return `Then ${r.then}.`;
}

/** "1.0.0 (definition 3f2a1b2c)": the version the run pinned, and its content hash. */
export function versionText(r: Pick<ApprovalRequest, "version" | "definitionHash">): string {
  return `${r.version} (definition ${r.definitionHash.slice(0, 8)})`;
}

export function gateItemTitle(item: Extract<NextItem, { kind: "gate" }>): string {
  return `gate ${item.gate} verifies`;
}

export interface Folded {
  shown: string;
  /** Lines left out. */
  hidden: number;
  /** The last line shown was cut short. */
  cut: boolean;
}

/** At most `maxLines` lines and about `maxChars` characters of a command; the rest is on the run page. */
export function foldText(text: string, maxLines: number, maxChars: number): Folded {
  const lines = text.replace(/\n+$/, "").split("\n");
  const kept: string[] = [];
  let room = maxChars;
  let cut = false;
  for (const line of lines) {
    if (kept.length >= maxLines || room <= 0) break;
    if (line.length > room) {
      kept.push(`${line.slice(0, Math.max(1, room - 1))}…`);
      cut = true;
      break;
    }
    kept.push(line);
    room -= line.length + 1;
  }
  return { shown: kept.join("\n"), hidden: lines.length - kept.length, cut };
}

/** What a fold left out of a command, or undefined when nothing was. */
export function moreLinesText(f: Folded): string | undefined {
  if (f.hidden > 0) return `… ${plural(f.hidden, "more line")}`;
  return f.cut ? "… the line goes on" : undefined;
}

export function moreItemsText(n: number): string {
  return `… ${plural(n, "more step")} before the next wait`;
}

export function moreCommandsText(n: number): string {
  return `… ${plural(n, "more command")}`;
}

export function moreChangesText(n: number): string {
  return `… ${plural(n, "more changed line")}`;
}

/** Where what a fold left out is: chat and the approvals page point to the run page. */
export const onRunPage = (text: string): string => `${text}, see the run page`;

export function changeHeading(c: DefinitionChange): string {
  const how = c.since.decision === "bypassed" ? "bypassed" : "approved";
  const versions = c.since.version === c.version ? `version ${c.version} both times` : `version ${c.since.version} then, ${c.version} now`;
  return `⚠️ The SOP changed since this gate was last ${how}: in run ${c.since.runId.slice(0, 8)} at ${utcText(c.since.decidedAt)} (${versions}).`;
}

export function tooLargeNote(): string {
  return "The two definitions differ too much to show the change here; compare them on the SOP page.";
}

const PREFIX: Record<DiffLine["kind"], string> = { add: "+ ", remove: "- ", same: "  ", section: "@@ ", gap: "" };

/** One line of the diff as text: `+ added`, `- removed`, `  context`, `@@ step 3. Deploy`, `…` between hunks. */
export function diffLineText(l: DiffLine): string {
  return l.kind === "gap" ? "  …" : `${PREFIX[l.kind]}${l.text}`;
}

/** What Deny (Failed) says when sent without a reason, as Slack's form does: the audit keeps why. */
export function reasonRequired(manual: boolean): string {
  return `${manual ? "Failed" : "Deny"} needs a reason: say ${manual ? "what went wrong" : "why"}, it goes into the audit record.`;
}

/** The "are you sure?" before approving a critical SOP, in chat and on the web. */
export function criticalConfirm(sop: string, checkpoint: string, runId: string): { title: string; text: string; yes: string; no: string } {
  return { title: `Approve ${sop}?`, text: `${sop} is critical. Approve ${checkpoint} of run ${runId.slice(0, 8)}?`, yes: "Approve", no: "Cancel" };
}
