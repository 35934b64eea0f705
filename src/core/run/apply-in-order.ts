/**
 * Several inputs applied to a run as one change, each at its own time: a command's end and the
 * start of the command that follows it are written together, one durable write per step instead
 * of two. Pure: the engine decides what to carry, the store sees one change.
 */
import { applyEvent, type EventResult, type RunInput } from "./apply-event.ts";
import type { SopDefinition } from "../sop/types.ts";
import type { RunState } from "./run-state.ts";

/** An input applied in memory, not yet written: it goes with the run's next write. */
export interface TimedInput {
  input: RunInput;
  /** When it happened: a command's end is timed at its end, not at the write that carries it. */
  at: number;
}

export interface OrderedResult extends EventResult {
  /** Whether the last input changed the run (the ones before it may have, and are written all the same). */
  lastChanged: boolean;
}

/**
 * `inputs` applied in order. The effects are all of theirs, except the commands asked for by all
 * but the last: the caller started those between them (that is why the inputs travel together).
 */
export function applyInOrder(def: SopDefinition, before: RunState, inputs: readonly TimedInput[]): OrderedResult {
  let run = before;
  let changed = false;
  let last: EventResult | undefined;
  const effects: EventResult["effects"] = [];
  for (const [index, { input, at }] of inputs.entries()) {
    last = applyEvent(def, run, input, at);
    run = last.run;
    changed ||= last.changed;
    const isLast = index === inputs.length - 1;
    effects.push(...(isLast ? last.effects : last.effects.filter((e) => e.type !== "run_command")));
  }
  return { ...last, run, effects, changed, lastChanged: last?.changed ?? false };
}
