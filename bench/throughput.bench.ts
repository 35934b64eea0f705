/**
 * In-process no-op runs per second: a burst of runs of a 3-note SOP (no commands), counted
 * until every run ended and its audit file is on disk. The baseline, measured in the same run,
 * is the floor any durable design pays: one atomic, fsynced write of each run's audit record,
 * as many at once. The ratio reads as "a run costs N durable writes".
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { writeJsonAtomic } from "../src/audit/write-audit-file.ts";
import { fmt, ratioText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, timeMs } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const RUNS = 300;
const WARM_UP_RUNS = 30;
const SOP = "three-notes";

const TOML = `[sop]
name = "${SOP}"
description = "Three notes, no commands"
execution_mode = "automatic"
cooldown_secs = 0
max_concurrent = 100
`;

const MD = `# Three notes

## Steps

1. **Announce**
   Tell the channel the run started.
2. **Record**
   Nothing to run: a note succeeds at once.
3. **Close**
   Done.
`;

/** Starts `count` runs at once and resolves when all of them finished and their audit files landed. */
async function burst(runner: SopRunner, count: number): Promise<void> {
  const finished = new Map<string, string>();
  let wake: () => void = () => undefined;
  // Subscribed before the first execute, so no run_finished can slip by.
  const stop = runner.events.subscribe((e) => {
    if (e.type === "run_finished") {
      finished.set(e.runId, e.status ?? "");
      wake();
    }
  });
  try {
    const records = await Promise.all(Array.from({ length: count }, () => runner.execute(SOP, { wait: false })));
    const ids = records.map((r) => r.run_id);
    while (!ids.every((id) => finished.has(id))) await new Promise<void>((resolve) => (wake = resolve));
    const failed = ids.filter((id) => finished.get(id) !== "success");
    if (failed.length > 0) throw new Error(`${failed.length} runs did not succeed, e.g. ${failed[0]} ${finished.get(failed[0]!)}`);
    // record() waits for every pending audit write, so the clock includes the files.
    await runner.record(ids[ids.length - 1]!);
  } finally {
    stop();
  }
}

/** The baseline: `count` concurrent atomic writes of a real final audit record. */
async function durableWrites(ws: TempWorkspace, count: number): Promise<number> {
  const dir = join(ws.logsDir, "sop", SOP);
  const sample = (await readdir(dir)).find((n) => n.endsWith(".json"));
  if (sample === undefined) throw new Error("no audit file to copy for the baseline");
  const record: unknown = JSON.parse(await readFile(join(dir, sample), "utf8"));
  const out = join(ws.root, "baseline");
  const once = (round: number) => Promise.all(Array.from({ length: count }, (_, i) => writeJsonAtomic(join(out, `${round}-${i}.json`), record)));
  await once(0);
  collectGarbage();
  return timeMs(() => once(1));
}

export async function benchThroughput(): Promise<BenchResult[]> {
  return withWorkspace("throughput", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    const elapsed = await withRunner(ws, async (runner) => {
      await burst(runner, WARM_UP_RUNS);
      collectGarbage();
      const start = performance.now();
      await burst(runner, RUNS);
      return performance.now() - start;
    });
    // Counted after close(), which waits for every write: each run must have left its record.
    const files = await ws.auditFileCount(SOP);
    if (files !== WARM_UP_RUNS + RUNS) throw new Error(`expected ${WARM_UP_RUNS + RUNS} audit files, found ${files}`);

    const writesMs = await durableWrites(ws, RUNS);
    const rate = (RUNS * 1000) / elapsed;
    const writeRate = (RUNS * 1000) / writesMs;
    return [{
      name: "throughput",
      value: rate,
      unit: "runs/s",
      baseline: `1 durable write/run ${fmt(writeRate)}/s`,
      ratio: `${ratioText(writeRate / rate)} time per run vs one write`,
      note: `${RUNS} no-op runs started at once in ${fmt(elapsed)} ms (after ${WARM_UP_RUNS} warm-up runs); ${files} audit files written`,
    }];
  });
}
