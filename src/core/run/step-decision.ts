/**
 * Which step runs, which is skipped and why, and which approvals come before it: the rules of
 * SPEC §2.3–2.4, shared by real runs and by `sop plan`.
 */
import type { ApprovalPolicy, Gate, SopDefinition, Step } from "../sop/types.ts";
import { conditionVariables } from "../conditions/evaluate-condition.ts";
import { evaluateCondition } from "../conditions/evaluate-condition.ts";
import { explainCondition } from "../conditions/explain-condition.ts";
import { checkpointId, type RunState } from "./run-state.ts";
import { variableLookup } from "./run-variables.ts";

export type StepDecision = { run: true; reason: string } | { run: false; reason: string };

/** `priority_based` resolves by priority; the other modes are what they say. */
export function effectiveMode(def: SopDefinition): "automatic" | "supervised" | "step_by_step" {
  if (def.executionMode !== "priority_based") return def.executionMode;
  return def.priority === "critical" || def.priority === "high" ? "step_by_step" : "supervised";
}

/** Supervised SOPs that name no approval of their own wait for one before their first step. */
export function needsRunApproval(def: SopDefinition): boolean {
  if (effectiveMode(def) !== "supervised") return false;
  const namesStepApproval = def.steps.some((s) => s.requiresApproval);
  const namesGate = def.gates.some((g) => g.type === "approval" && g.required);
  return !namesStepApproval && !namesGate;
}

/** A step exempt from "later steps are skipped after a failure": cleanup and rollback steps. */
function survivesFailure(step: Step): boolean {
  if (step.always) return true;
  if (!step.condition) return false;
  return conditionVariables(step.condition.ast).some((n) => n === "previous_step" || n.startsWith("steps."));
}

/** The first failure that makes later steps skip, in words; undefined while nothing failed. */
export function runFailure(def: SopDefinition, run: RunState): string | undefined {
  const gate = run.verifications.find((v) => v.status === "failed");
  if (gate) return `gate ${gate.gate} failed`;
  for (const s of run.steps) {
    if (s.status !== "failed") continue;
    const step = def.steps[s.number - 1];
    if (step?.continueOnError) continue;
    return `step ${s.number} "${s.title}" failed`;
  }
  return undefined;
}

export function gatesOf(def: SopDefinition, when: "pre" | "post", stepNumber: number): Gate[] {
  return def.gates.filter((g) => g.attach.when === when && "step" in g.attach && g.attach.step === stepNumber);
}

export function runGates(def: SopDefinition, when: "pre_run" | "post_run"): Gate[] {
  return def.gates.filter((g) => g.attach.when === when);
}

export function decideStep(def: SopDefinition, run: RunState, step: Step): StepDecision {
  const failedPre = gatesOf(def, "pre", step.number).find((g) =>
    run.verifications.some((v) => v.gate === g.name && v.status === "failed"));
  if (failedPre) return { run: false, reason: `gate ${failedPre.name} failed` };
  const failure = runFailure(def, run);
  if (failure && !survivesFailure(step)) return { run: false, reason: failure };
  if (!step.condition) {
    return { run: true, reason: step.always && failure ? "always runs" : "no condition" };
  }
  const lookup = variableLookup(run, step.number);
  const value = evaluateCondition(step.condition.ast, lookup);
  return { run: value, reason: explainCondition(step.condition.ast, lookup) };
}

export interface ApprovalSpec {
  id: string;
  step?: number;
  reason: string;
  policy: ApprovalPolicy;
  required: boolean;
}

/** The approvals a step that will run asks for, in order, before its body. */
export function approvalsBefore(def: SopDefinition, step: Step): ApprovalSpec[] {
  const out: ApprovalSpec[] = [];
  if (needsRunApproval(def)) {
    out.push({ id: checkpointId.run, step: step.number, reason: "supervised mode: one approval before the first step", policy: def.approval, required: true });
  }
  const stepByStep = effectiveMode(def) === "step_by_step" && !step.manual;
  if (step.requiresApproval || stepByStep) {
    const reason = step.requiresApproval ? "requires_approval" : "step_by_step mode";
    out.push({ id: checkpointId.step(step.number), step: step.number, reason, policy: def.approval, required: true });
  }
  return out;
}

export function gateApproval(gate: Extract<Gate, { type: "approval" }>, step: number | undefined): ApprovalSpec {
  const spec: ApprovalSpec = { id: checkpointId.gate(gate.name), reason: `gate ${gate.name}`, policy: gate.policy, required: gate.required };
  if (step !== undefined) spec.step = step;
  return spec;
}
