/**
 * In-process no-op runs per second: a burst of runs of a 3-note SOP (no commands), counted
 * until every run ended and its audit file is on disk. The baseline, measured in the same run,
 * is the floor any durable design pays: one atomic, fsynced write of each run's audit record,
 * as many at once. The ratio reads as "a run costs N durable writes".
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeJsonAtomic } from "../src/audit/write-audit-file.ts";
import { fmt, ratioText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, timeMs } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";
import { NO_OP_MD, NO_OP_SOP, burst, noOpToml } from "./no-op-burst.ts";

const RUNS = 300;
const WARM_UP_RUNS = 30;
const SOP = NO_OP_SOP;
const TOML = noOpToml(100);
const MD = NO_OP_MD;

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
