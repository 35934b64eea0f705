/**
 * Approve → next step started over Redis: for runs waiting at an approval, the time from calling
 * `runner.approve` to the run's `step_started` event, in a process that runs a worker (as
 * `sop serve` does). The approval is stored, then an "advance run X" job goes through BullMQ to
 * the worker, which starts the step. The baseline, measured in the same run on the same Redis, is
 * that hand-off alone: one raw BullMQ job from `add` to its processor; the ratio reads as "an
 * approval costs N bare job hand-offs".
 */
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { approveOne, bullmqHandOffs, startWaiting, type ApprovalTiming } from "./redis-gated.ts";
import { GATED, gatedSop } from "./gated-sop.ts";
import { pingLatencies, REDIS_URL, withPrefix } from "./redis-env.ts";
import { collectGarbage, percentile } from "./stats.ts";
import { withRunner, withWorkspace } from "./temp-workspace.ts";

const RUNS = 1000;
const WARM_UP_RUNS = 20;
const CONCURRENCY = 4;
const TARGET_P99_MS = 25;
const HAND_OFFS = 300;

export async function benchRedisApproveLatency(): Promise<BenchResult[]> {
  const handOffs = await withPrefix("handoff", (prefix) => bullmqHandOffs(prefix, HAND_OFFS, CONCURRENCY));
  const pings = await pingLatencies(HAND_OFFS);
  const timings = await withPrefix("approve", (prefix) => withWorkspace("redis-approve", async (ws) => {
    const { toml, md } = gatedSop({ maxConcurrent: 2 * (RUNS + WARM_UP_RUNS), secondStep: false });
    await ws.addSop(GATED, toml, md);
    const env = { ...ws.env(), REDIS_URL, SOP_REDIS_PREFIX: prefix };
    return withRunner(ws, async (runner) => {
      const ids = await startWaiting(runner, WARM_UP_RUNS + RUNS);
      for (const id of ids.slice(0, WARM_UP_RUNS)) await approveOne(runner, id);
      collectGarbage();
      const timings: ApprovalTiming[] = [];
      for (const id of ids.slice(WARM_UP_RUNS)) timings.push(await approveOne(runner, id));
      const done = await runner.runs({ sop: GATED });
      const notSuccess = done.filter((r) => r.status !== "success");
      if (notSuccess.length > 0) throw new Error(`${notSuccess.length} approved runs did not succeed, e.g. ${notSuccess[0]!.status}`);
      return timings;
    }, { redisUrl: REDIS_URL, env, concurrency: CONCURRENCY });
  }));

  const total = timings.map((t) => t.total);
  const p50 = percentile(total, 50);
  const p99 = percentile(total, 99);
  const handOffP50 = percentile(handOffs, 50);
  const decided = timings.map((t) => t.decided);
  const afterDecision = timings.map((t) => t.total - t.decided);
  return [{
    name: "redis-approve-latency",
    value: p50,
    unit: `ms p50, ${fmt(p99)} ms p99`,
    baseline: `BullMQ add → worker p50 ${fmt(handOffP50)} ms`,
    ratio: `${ratioText(p50 / handOffP50)} p50 vs one hand-off`,
    target: targetText(`p99 < ${TARGET_P99_MS} ms`, `${fmt(p99)} ms`, p99 < TARGET_P99_MS),
    note: `approve → step_started over ${RUNS} waiting runs (after ${WARM_UP_RUNS} warm-up), worker concurrency ${CONCURRENCY} in-process; ` +
      `split p50: deciding (→ approval_decided) ${fmt(percentile(decided, 50))} ms, then job → step_started ${fmt(percentile(afterDecision, 50))} ms ` +
      `(p99 ${fmt(percentile(decided, 99))} / ${fmt(percentile(afterDecision, 99))} ms); max ${fmt(Math.max(...total))} ms; ` +
      `hand-off p99 ${fmt(percentile(handOffs, 99))} ms over ${HAND_OFFS}; Redis round trip (PING) p50 ${fmt(percentile(pings, 50))} ms`,
  }];
}
