/**
 * `npm run bench`: runs every benchmark in turn (never in parallel: they would share two cores
 * and skew each other), prints one line each, then a summary table. A missed target never fails
 * the run; a benchmark that throws is broken, so it is listed and the exit code is 1.
 */
import { availableParallelism, loadavg } from "node:os";
import { ensureFreshBuild } from "../scripts/build.ts";
import { benchApproveLatency } from "./approve-latency.bench.ts";
import { resultLine, resultTable, type BenchResult } from "./bench-result.ts";
import { benchCliStart } from "./cli-start.bench.ts";
import { benchConditions } from "./conditions.bench.ts";
import { benchHistory } from "./history.bench.ts";
import { benchHttpApprove } from "./http-approve.bench.ts";
import { benchLoadSops } from "./load-sops.bench.ts";
import { benchParseLimits } from "./parse-limits.bench.ts";
import { benchRedisApproveLatency } from "./redis-approve-latency.bench.ts";
import { REDIS_URL, redisAnswers, sweepRedis } from "./redis-env.ts";
import { benchRedisThroughput } from "./redis-throughput.bench.ts";
import { benchRedisWaiting } from "./redis-waiting.bench.ts";
import { benchRedisIoWorkers, benchRedisWorkers } from "./redis-workers.bench.ts";
import { benchServeRss } from "./serve-rss.bench.ts";
import { benchSlackApprove } from "./slack-approve.bench.ts";
import { benchStepOverhead } from "./step-overhead.bench.ts";
import { benchThroughput } from "./throughput.bench.ts";
import { benchTriggerMatch } from "./trigger-match.bench.ts";

/**
 * A benchmark that has not finished by then is reported as stalled. Without this, a run that
 * waits forever on an event leaves Node with nothing to do, and it exits (code 13) mid-table.
 */
const DEADLINE_MS = 90_000;

interface Benchmark {
  name: string;
  run: () => Promise<BenchResult[]>;
  /** Needs Redis at REDIS_URL; without one, all such benchmarks are skipped with one line. */
  redis?: true;
  /** For the few that need longer than DEADLINE_MS by design (10,000 runs started one by one). */
  deadlineMs?: number;
}

const BENCHMARKS: readonly Benchmark[] = [
  // Cold loads, warm loads, reloads and whole `sop validate` processes of 1,000 SOPs.
  { name: "load-sops", run: benchLoadSops, deadlineMs: 300_000 },
  { name: "parse-limits", run: benchParseLimits, deadlineMs: 180_000 },
  { name: "conditions", run: benchConditions },
  { name: "step-overhead", run: benchStepOverhead },
  { name: "throughput", run: benchThroughput },
  { name: "approve-latency", run: benchApproveLatency },
  { name: "http-approve", run: benchHttpApprove },
  { name: "trigger-match", run: benchTriggerMatch },
  { name: "cli-start", run: benchCliStart },
  { name: "serve-rss", run: benchServeRss },
  { name: "slack-approve", run: benchSlackApprove },
  // 100,000 ended runs seeded per driver (the Redis half is skipped without Redis).
  { name: "history", run: benchHistory, deadlineMs: 1_200_000 },
  { name: "redis-throughput", run: benchRedisThroughput, redis: true },
  { name: "redis-approve-latency", run: benchRedisApproveLatency, redis: true },
  { name: "redis-waiting", run: benchRedisWaiting, redis: true, deadlineMs: 240_000 },
  { name: "redis-workers", run: benchRedisWorkers, redis: true },
  { name: "redis-io-workers", run: benchRedisIoWorkers, redis: true },
];

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: not done after ${ms / 1000} s (its temp dir may be left behind)`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  if (globalThis.gc === undefined) console.log("note: run with --expose-gc (npm run bench) for steadier figures");
  const only = process.argv.slice(2);
  let selected = only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => only.includes(b.name));
  if (selected.length === 0) {
    console.error(`unknown benchmark ${only.join(", ")}; known: ${BENCHMARKS.map((b) => b.name).join(", ")}`);
    return 2;
  }
  if (selected.some((b) => b.redis) && !(await redisAnswers())) {
    console.log(`redis benchmarks skipped: no Redis at ${REDIS_URL} (set REDIS_URL)`);
    selected = selected.filter((b) => !b.redis);
  }
  // Several spawn bin/sop.js, which runs dist/: never a stale one.
  ensureFreshBuild();
  const results: BenchResult[] = [];
  const errors: { name: string; message: string }[] = [];
  const started = performance.now();
  for (const bench of selected) {
    try {
      for (const result of await withDeadline(bench.run(), bench.deadlineMs ?? DEADLINE_MS)) {
        results.push(result);
        console.log(resultLine(result));
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      errors.push({ name: bench.name, message });
      console.error(`${bench.name}: ERROR ${error instanceof Error ? (error.stack ?? message) : message}`);
    }
  }
  // A stalled Redis benchmark never reached its own clean-up.
  await sweepRedis();
  // Other work on the machine moves every figure; the load average says how much there was.
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores, load ${load}, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(resultTable(results, errors));
  return errors.length > 0 ? 1 : 0;
}

// exit() rather than exitCode: a stalled benchmark may still hold timers or child processes.
process.exit(await main());
