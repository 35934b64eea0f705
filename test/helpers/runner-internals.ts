/**
 * Fault injection and cost probes reach past the runner's door on purpose, to do what no user of
 * it can: admit a run whose nudge is lost, count what a query asks of the store.
 */
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { RunStore } from "../../src/ports/run-store.ts";

export function storeOf(runner: SopRunner): RunStore {
  return (runner as unknown as { store: RunStore }).store;
}
