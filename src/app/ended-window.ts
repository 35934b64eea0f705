import { TERMINAL_STATUSES, type RunState } from "../core/run/run-state.ts";
import type { RunStore } from "../ports/run-store.ts";
import { setNewest } from "../core/bounded-map.ts";

/** How many of an SOP's latest ended runs its metrics (success rate, percentiles) are taken from. */
const METRICS_WINDOW = 200;
/** SOPs whose window is kept between calls. */
const KEPT = 1_000;

/**
 * Per SOP, its latest ended runs (at most METRICS_WINDOW, step outputs left out) and how many
 * ended runs it has: what `getStatus` takes its metrics from, never the whole history. A window
 * is kept while neither the count nor the newest ended run changed, so pages that show every
 * SOP's status ask two small questions per SOP instead of reading the window again.
 */
export class EndedWindows {
  private readonly kept = new Map<string, { key: string; runs: RunState[] }>();

  constructor(private readonly store: RunStore) {}

  async get(sop: string): Promise<{ runs: RunState[]; count: number }> {
    const [count, newest] = await Promise.all([
      this.store.count(sop, TERMINAL_STATUSES),
      this.store.page({ sop, statuses: TERMINAL_STATUSES, limit: 1 }),
    ]);
    const first = newest.runs[0];
    const key = `${count}:${first?.id ?? ""}:${first?.revision ?? ""}`;
    const kept = this.kept.get(sop);
    if (kept?.key === key) return { runs: kept.runs, count };
    const page = await this.store.page({ sop, statuses: TERMINAL_STATUSES, limit: METRICS_WINDOW });
    const runs = page.runs.map((run) => ({ ...run, steps: run.steps.map((step) => ({ ...step, output: "" })) }));
    setNewest(this.kept, sop, { key, runs }, KEPT);
    return { runs, count };
  }
}
