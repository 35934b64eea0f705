import type { SopDefinition, Step } from "../sop/types.ts";
import type { RunState, StepState } from "./run-state.ts";

// A run has one state per step of its definition, and a step's command index stays within its
// commands: a lookup that finds nothing is a bug in the state machine, never bad input.

/** The state of step `number` (1-based) of `run`. */
export function stepStateOf(run: RunState, number: number): StepState {
  const state = run.steps[number - 1];
  if (state === undefined) throw new Error(`run ${run.id} has no step ${number} (it has ${run.steps.length})`);
  return state;
}

/** Step `number` (1-based) of the definition. */
export function stepOf(def: SopDefinition, number: number): Step {
  const step = def.steps[number - 1];
  if (step === undefined) throw new Error(`SOP ${def.name} has no step ${number} (it has ${def.steps.length})`);
  return step;
}

/** Command `index` (0-based) of `step`. */
export function commandOf(step: Step, index: number): string {
  const command = step.commands[index];
  if (command === undefined) throw new Error(`step ${step.number} has no command ${index + 1} (it has ${step.commands.length})`);
  return command;
}
