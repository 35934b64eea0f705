/**
 * `sop plan`: which steps would run, skip or wait, and why. It drives the real state machine
 * with every command succeeding, every approval given and no step output, so a plan can never
 * disagree with what a run does under those assumptions.
 */
import type { SopDefinition, VarValue } from "../sop/types.ts";
import { applyEvent, type RunInput } from "../run/apply-event.ts";
import type { Actor } from "../run/decide.ts";
import { newRun } from "../run/new-run.ts";
import { isTerminal, type Checkpoint, type RunState } from "../run/run-state.ts";
import { isBuiltinVariable } from "../run/run-variables.ts";
import { conditionVariables } from "../conditions/evaluate-condition.ts";

export type PlanDecision = "run" | "skip" | "approval" | "manual";

export interface PlannedStep {
  number: number;
  title: string;
  decision: PlanDecision;
  reason: string;
  /**
   * False when the decision rests on a variable that is unset now while an earlier step that
   * runs a command could set it (through $SOP_OUTPUT): the plan cannot know, and says so.
   */
  certain: boolean;
}

export interface PlannedGate {
  name: string;
  type: "approval" | "verification";
  decision: "approval" | "notify" | "run" | "skip";
  reason: string;
}

export interface Plan {
  sop: string;
  steps: PlannedStep[];
  gates: PlannedGate[];
}

const PLANNER: Actor = { id: "plan:assumed-approver", groups: [], admin: true };

/** Play the run through to its end under the plan's assumptions. */
export function simulateRun(def: SopDefinition, vars: Record<string, VarValue>): RunState {
  let run = newRun(def, { id: "plan", definitionHash: "plan", trigger: { type: "manual" }, requestedBy: "plan:requester", vars, now: 0 });
  let queue: RunInput[] = [{ type: "start" }];
  // Every step, gate and approval is at most one event each; the bound only guards against bugs.
  const limit = 10 * (def.steps.length + def.gates.length + 4);
  for (let i = 0; i < limit && !isTerminal(run.status); i++) {
    const input = queue.shift();
    if (input === undefined) break;
    const result = applyEvent(def, run, input, i + 1);
    run = result.run;
    for (const effect of result.effects) {
      if (effect.type !== "run_command") continue;
      queue.push({
        type: "command_finished", target: effect.target, commandIndex: effect.commandIndex, attempt: effect.attempt,
        result: { exitCode: 0, output: "", timedOut: false, cancelled: false, durationMs: 0 }, outputVars: {},
      });
    }
    if (input.type === "decide") queue.push({ type: "advance" });
    if (queue.length === 0 && run.checkpoints.some((c) => c.status === "pending")) {
      queue = [{ type: "decide", actor: PLANNER, decision: "approve" }];
    }
  }
  return run;
}

function isPostGate(cp: Checkpoint): boolean {
  return cp.id.startsWith("gate:post_");
}

function approvalsOf(run: RunState, stepNumber: number, isFirstRunning: boolean): Checkpoint[] {
  return run.checkpoints.filter((c) =>
    c.kind === "approval" && c.required && !isPostGate(c) &&
    (c.step === stepNumber || (isFirstRunning && c.id.startsWith("gate:pre_run"))));
}

/**
 * What a run will do from here, as people are shown it: its pinned definition (never the catalog's
 * current one) with its audit record's variables, whose secrets are already `***`, so that no
 * reason can print a secret the record hides.
 */
export function forecastRun(def: SopDefinition, record: { vars: Record<string, VarValue> }): Plan {
  return planRun(def, record.vars);
}

export function planRun(def: SopDefinition, vars: Record<string, VarValue>): Plan {
  const run = simulateRun(def, vars);
  const firstRunning = run.steps.find((s) => s.status !== "skipped")?.number;
  const steps = run.steps.map((s): PlannedStep => {
    const base = { number: s.number, title: s.title };
    // Variables the decision rests on that are unset, while an earlier step running a command may set them.
    const unsure = openVariables(def, run, s.number, { ...def.vars, ...vars });
    const unless = unsure.length > 0 ? ` unless an earlier step sets ${unsure.join(" or ")}` : "";
    const planned = (decision: PlanDecision, reason: string): PlannedStep => ({ ...base, decision, reason, certain: unsure.length === 0 });
    if (s.status === "skipped") return planned("skip", unsure.length > 0 ? `skips${unless} (${s.reason ?? "condition is false"})` : `skipped: ${s.reason ?? "condition is false"}`);
    const approvals = approvalsOf(run, s.number, s.number === firstRunning);
    const runs = unsure.length > 0 ? `; skips instead if an earlier step sets ${unsure.join(" or ")}` : "";
    if (approvals.length > 0) {
      return planned("approval", `waits for approval: ${approvals.map((a) => a.reason).join(", then ")}${runs}`);
    }
    if (def.steps[s.number - 1]?.manual) return planned("manual", `waits for a person to mark it Done or Failed (manual step)${runs}`);
    const step = def.steps[s.number - 1];
    const why = step?.condition || step?.commands.length ? (s.reason ?? "no condition") : "a note, nothing to execute";
    return planned("run", `runs: ${why}${runs}`);
  });
  return { sop: def.name, steps, gates: planGates(def, run) };
}

/**
 * The unset variables step `number`'s condition reads, when an earlier step that the plan runs
 * has a command (and so may set them through $SOP_OUTPUT); empty when the decision is certain.
 */
function openVariables(def: SopDefinition, run: RunState, number: number, known: Record<string, VarValue>): string[] {
  const condition = def.steps[number - 1]?.condition;
  if (!condition) return [];
  const setter = def.steps.some((step) => step.number < number && step.commands.length > 0 && run.steps[step.number - 1]?.status !== "skipped");
  if (!setter) return [];
  return conditionVariables(condition.ast).filter((name) => !isBuiltinVariable(name) && known[name] === undefined);
}

function planGates(def: SopDefinition, run: RunState): PlannedGate[] {
  return def.gates.map((g): PlannedGate => {
    if (g.type === "verification") {
      const v = run.verifications.find((x) => x.gate === g.name);
      return { name: g.name, type: g.type, decision: v ? "run" : "skip", reason: v ? `runs \`${g.command}\`` : "its step does not run" };
    }
    const cp = run.checkpoints.find((c) => c.id === `gate:${g.name}`);
    if (!cp) return { name: g.name, type: g.type, decision: "skip", reason: "its step does not run" };
    return cp.required
      ? { name: g.name, type: g.type, decision: "approval", reason: `waits for ${cp.minApprovals} approval${cp.minApprovals > 1 ? "s" : ""}` }
      : { name: g.name, type: g.type, decision: "notify", reason: "notifies, does not wait (required = false)" };
  });
}
