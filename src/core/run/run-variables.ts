import type { VarValue } from "../sop/types.ts";
import type { Lookup } from "../conditions/evaluate-condition.ts";
import type { RunState, StepStatus } from "./run-state.ts";

/** A bypassed manual step counts as done for the conditions of later steps. */
function conditionStatus(status: StepStatus): string | undefined {
  switch (status) {
    case "success":
    case "bypassed":
      return "success";
    case "failed":
    case "skipped":
    case "cancelled":
      return status;
    default:
      return undefined;
  }
}

const BUILTINS = new Set(["sop_name", "run_id", "trigger_type", "requested_by", "previous_step"]);

/** Variables the run itself answers (its id, its steps' statuses …), which no step output can set. */
export function isBuiltinVariable(name: string): boolean {
  return BUILTINS.has(name) || name.startsWith("steps.");
}

/** User variables of the run: `[vars]` defaults, trigger captures and execute-time vars, then step outputs. */
export function userVariables(run: RunState): Record<string, VarValue> {
  return { ...run.inputVars, ...run.outputVars };
}

/**
 * How a condition of step `stepNumber` sees the run. Built-ins win over user variables so a
 * chat message can never pose as `requested_by`.
 */
export function variableLookup(run: RunState, stepNumber: number): Lookup {
  const vars = userVariables(run);
  const bySlug = new Map(run.steps.map((s) => [s.slug, s]));
  return (name) => {
    switch (name) {
      case "sop_name":
        return run.sop;
      case "run_id":
        return run.id;
      case "trigger_type":
        return run.trigger.type;
      case "requested_by":
        return run.requestedBy;
      case "previous_step": {
        const prev = run.steps[stepNumber - 2];
        return prev ? conditionStatus(prev.status) : undefined;
      }
    }
    if (name.startsWith("steps.")) {
      const step = bySlug.get(name.slice("steps.".length));
      return step ? conditionStatus(step.status) : undefined;
    }
    return vars[name];
  };
}

/** Built-in variables handed to commands as SOP_VAR_*, besides the user variables. */
export function builtinVariables(run: RunState, stepNumber: number | undefined): Record<string, VarValue> {
  const out: Record<string, VarValue> = {
    sop_name: run.sop,
    run_id: run.id,
    trigger_type: run.trigger.type,
    requested_by: run.requestedBy,
  };
  if (stepNumber !== undefined) {
    const prev = run.steps[stepNumber - 2];
    const status = prev && conditionStatus(prev.status);
    if (status) out["previous_step"] = status;
  }
  return out;
}
