/** The no-op SOP and the burst both throughput benchmarks (in-process and Redis) measure. */
import type { SopRunner } from "../src/app/sop-runner.ts";

export const NO_OP_SOP = "three-notes";

export function noOpToml(maxConcurrent: number): string {
  return `[sop]
name = "${NO_OP_SOP}"
description = "Three notes, no commands"
execution_mode = "automatic"
cooldown_secs = 0
max_concurrent = ${maxConcurrent}
`;
}

export const NO_OP_MD = `# Three notes

## Steps

1. **Announce**
   Tell the channel the run started.
2. **Record**
   Nothing to run: a note succeeds at once.
3. **Close**
   Done.
`;

/** Starts `count` runs at once and resolves when all of them finished and their audit files landed. */
export async function burst(runner: SopRunner, count: number): Promise<void> {
  const finished = new Map<string, string>();
  let wake: () => void = () => undefined;
  // Subscribed before the first execute, so no run_finished can slip by.
  const stop = runner.events.subscribe((e) => {
    if (e.type === "run_finished") {
      finished.set(e.runId, e.status);
      wake();
    }
  });
  try {
    const records = await Promise.all(Array.from({ length: count }, () => runner.execute(NO_OP_SOP, { wait: false })));
    const ids = records.map((r) => r.run_id);
    // Looked over only once enough runs finished: looking at every id on every event cost the
    // clock O(runs²), which the raw BullMQ baseline's counter does not pay.
    while (finished.size < ids.length || !ids.every((id) => finished.has(id))) await new Promise<void>((resolve) => (wake = resolve));
    const failed = ids.filter((id) => finished.get(id) !== "success");
    if (failed.length > 0) throw new Error(`${failed.length} runs did not succeed, e.g. ${failed[0]} ${finished.get(failed[0]!)}`);
    // record() waits for every pending audit write, so the clock includes the files.
    await runner.record(ids[ids.length - 1]!);
  } finally {
    stop();
  }
}
