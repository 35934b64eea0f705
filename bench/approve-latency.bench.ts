/**
 * Approve → next step started: for runs waiting at an approval, the time from calling
 * `runner.approve` to the run's `step_started` event. The baseline, measured in the same run, is
 * one atomic fsynced write of the run's record: deciding must be durable before the step may
 * start, so that is the floor; the ratio reads as "an approval costs N durable writes".
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { writeJsonAtomic } from "../src/audit/write-audit-file.ts";
import { gatedSop, nextEvent, GATED } from "./gated-sop.ts";
import { fmt, ratioText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, percentile } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const RUNS = 200;
const WARM_UP_RUNS = 10;
const SOP = GATED;

const { toml: TOML, md: MD } = gatedSop({ maxConcurrent: RUNS + WARM_UP_RUNS, secondStep: false });

/**
 * Runs that wait at their gate, started one after another. (Started all at once, most of them
 * stay queued although slots are free: a run that finds an earlier one in line is never nudged
 * again unless a run ends. Reported to the lead; the one-at-a-time start keeps this benchmark off
 * that path.)
 */
async function waitingRuns(runner: SopRunner, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await runner.execute(SOP, { wait: true });
    if (r.status !== "awaiting_approval") throw new Error(`run ${r.run_id} is ${r.status}, not awaiting_approval`);
    ids.push(r.run_id);
  }
  return ids;
}

/** Approves one run and returns ms to its step_started; waits for the run to end, so runs never overlap. */
async function approveOne(runner: SopRunner, runId: string): Promise<number> {
  const started = nextEvent(runner, runId, "step_started");
  const ended = nextEvent(runner, runId, "run_finished");
  const t0 = performance.now();
  const decided = runner.approve(SOP, { runId });
  const latency = (await started) - t0;
  await decided;
  await ended;
  return latency;
}

async function writeLatencies(ws: TempWorkspace, count: number): Promise<number[]> {
  const dir = join(ws.logsDir, "sop", SOP);
  const sample = (await readdir(dir)).find((n) => n.endsWith(".json"));
  if (sample === undefined) throw new Error("no audit file to copy for the baseline");
  const record: unknown = JSON.parse(await readFile(join(dir, sample), "utf8"));
  const path = join(ws.root, "baseline", "record.json");
  await writeJsonAtomic(path, record);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await writeJsonAtomic(path, record);
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function benchApproveLatency(): Promise<BenchResult[]> {
  return withWorkspace("approve", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    const samples = await withRunner(ws, async (runner) => {
      const ids = await waitingRuns(runner, WARM_UP_RUNS + RUNS);
      for (const id of ids.slice(0, WARM_UP_RUNS)) await approveOne(runner, id);
      collectGarbage();
      const latencies: number[] = [];
      for (const id of ids.slice(WARM_UP_RUNS)) latencies.push(await approveOne(runner, id));
      const done = await runner.runs({ sop: SOP });
      const notSuccess = done.filter((r) => r.status !== "success");
      if (notSuccess.length > 0) throw new Error(`${notSuccess.length} approved runs did not succeed, e.g. ${notSuccess[0]!.status}`);
      return latencies;
    });
    const writes = await writeLatencies(ws, RUNS);

    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    const writeP50 = percentile(writes, 50);
    return [{
      name: "approve-latency",
      value: p50,
      unit: `ms p50, ${fmt(p99)} ms p99`,
      baseline: `1 durable write p50 ${fmt(writeP50)} ms`,
      ratio: `${ratioText(p50 / writeP50)} p50 vs one write`,
      note: `approve → step_started over ${RUNS} runs (after ${WARM_UP_RUNS} warm-up); max ${fmt(Math.max(...samples))} ms; write p99 ${fmt(percentile(writes, 99))} ms`,
    }];
  });
}
