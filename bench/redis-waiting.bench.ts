/**
 * 10,000 runs waiting for approval at once, on Redis. Three figures:
 * - Redis memory per waiting run: the `INFO memory` used_memory delta over starting them, per
 *   run (target < 4 KB), with the `MEMORY USAGE` of this benchmark's own keys as a cross-check
 *   that other clients of a shared Redis cannot move.
 * - Approve → step_started with 10,000 waiting against the same with 10 waiting (the baseline):
 *   nothing an approval does may scale with the number of waiting runs, so the ratio should be
 *   about 1. Two deployments (prefixes, runners with a worker each) in this one process, one
 *   with 10,000 waiting runs and one with 10, approved in alternation, so JIT warmth and other
 *   load on the machine fall on both alike. Each approved run is replaced by a new waiting one,
 *   so the counts stay put while sampling.
 * - Paused runs are data: while they wait, BullMQ holds no job for them (active 0, waiting 0,
 *   prioritized 0, delayed 0), so the worker's concurrency is all free.
 */
import { performance } from "node:perf_hooks";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { redisKeys } from "../src/drivers/redis/redis-keys.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { approveOne, startWaiting } from "./redis-gated.ts";
import { GATED, gatedSop } from "./gated-sop.ts";
import { connect, info, prefixMemory, REDIS_URL, withPrefix } from "./redis-env.ts";
import { collectGarbage, percentile } from "./stats.ts";
import { withRunner, withWorkspace } from "./temp-workspace.ts";

const WAITING = 10_000;
const FEW = 10;
const SAMPLES = 200;
/** Approvals per deployment (each with its replacement start) before any is timed. */
const WARM_UP = 50;
const CONCURRENCY = 4;
const TARGET_BYTES = 4096;
/** "Unchanged" within the noise of 200 samples on a shared 2-core machine. */
const MAX_RATIO = 1.25;

interface Deployment {
  runner: SopRunner;
  prefix: string;
  /** Its runs waiting at the gate, oldest first. */
  waiting: string[];
}

/** A deployment of its own (key prefix, workspace, runner with a worker) for the length of `fn`. */
async function withDeployment<T>(label: string, fn: (d: Deployment) => Promise<T>): Promise<T> {
  return withPrefix(label, (prefix) => withWorkspace(label, async (ws) => {
    const { toml, md } = gatedSop({ maxConcurrent: 2 * WAITING, secondStep: false });
    await ws.addSop(GATED, toml, md);
    const env = { ...ws.env(), REDIS_URL, SOP_REDIS_PREFIX: prefix };
    return withRunner(ws, (runner) => fn({ runner, prefix, waiting: [] }), { redisUrl: REDIS_URL, env, concurrency: CONCURRENCY });
  }));
}

/** Approves the oldest waiting run and starts a new one in its place; returns the approval's latency. */
async function approveAndReplace(d: Deployment): Promise<number> {
  const latency = (await approveOne(d.runner, d.waiting.shift()!)).total;
  d.waiting.push(...(await startWaiting(d.runner, 1)));
  return latency;
}

/** `samples` approvals in each deployment, alternating (and alternating which goes first). */
async function alternate(many: Deployment, few: Deployment, samples: number): Promise<{ many: number[]; few: number[] }> {
  const out = { many: [] as number[], few: [] as number[] };
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      out.many.push(await approveAndReplace(many));
      out.few.push(await approveAndReplace(few));
    } else {
      out.few.push(await approveAndReplace(few));
      out.many.push(await approveAndReplace(many));
    }
  }
  return out;
}

interface Measured {
  few: number[];
  many: number[];
  fillS: number;
  added: number;
  /** Bytes per added waiting run: INFO used_memory delta, and the MEMORY USAGE delta of our keys. */
  perRun: number;
  perRunKeys: number;
  /** Mean MEMORY USAGE of a waiting run's hash, and of its RunState JSON field alone. */
  hashBytes: number;
  jsonBytes: number;
  counts: Record<string, number>;
}

/** Mean size of the run hashes of `ids` in Redis, and of the RunState JSON they hold. */
async function runHashSizes(probe: Redis, prefix: string, ids: readonly string[]): Promise<{ hashBytes: number; jsonBytes: number }> {
  const keys = redisKeys(prefix);
  const sizes = probe.pipeline();
  for (const id of ids) sizes.memory("USAGE", keys.run(id), "SAMPLES", "0").hstrlen(keys.run(id), "run");
  const replies = ((await sizes.exec()) ?? []).map(([error, reply]) => {
    if (error) throw error;
    return Number(reply);
  });
  const mean = (odd: 0 | 1) => replies.filter((_, i) => i % 2 === odd).reduce((a, b) => a + b, 0) / ids.length;
  return { hashBytes: mean(0), jsonBytes: mean(1) };
}

async function measure(many: Deployment, few: Deployment): Promise<Measured> {
  const probe = connect();
  const keys = redisKeys(many.prefix);
  const jobs = new Queue(keys.queueName, { connection: probe, prefix: keys.prefix });
  try {
    many.waiting.push(...(await startWaiting(many.runner, FEW)));
    few.waiting.push(...(await startWaiting(few.runner, FEW)));
    await alternate(many, few, WARM_UP);

    const added = WAITING - many.waiting.length;
    const before = { used: (await info(probe, "memory"))["used_memory"]!, keys: await prefixMemory(probe, many.prefix) };
    const t0 = performance.now();
    many.waiting.push(...(await startWaiting(many.runner, added)));
    const fillS = (performance.now() - t0) / 1000;
    const after = { used: (await info(probe, "memory"))["used_memory"]!, keys: await prefixMemory(probe, many.prefix) };
    const counts = await jobs.getJobCounts("active", "waiting", "prioritized", "delayed");
    const sizes = await runHashSizes(probe, many.prefix, many.waiting.slice(-SAMPLES));
    const stored = await many.runner.runs({ sop: GATED, statuses: ["awaiting_approval"] });
    if (stored.length !== WAITING) throw new Error(`expected ${WAITING} runs awaiting approval, the store has ${stored.length}`);

    collectGarbage();
    const samples = await alternate(many, few, SAMPLES);
    return {
      ...samples, fillS, added, counts, ...sizes,
      perRun: (after.used - before.used) / added,
      perRunKeys: (after.keys.bytes - before.keys.bytes) / added,
    };
  } finally {
    await jobs.close();
    probe.disconnect();
  }
}

export async function benchRedisWaiting(): Promise<BenchResult[]> {
  const m = await withDeployment("redis-waiting", (many) => withDeployment("redis-waiting-few", (few) => measure(many, few)));
  const fewP50 = percentile(m.few, 50);
  const manyP50 = percentile(m.many, 50);
  const ratio = manyP50 / fewP50;
  const held = ["active", "waiting", "prioritized", "delayed"].reduce((n, state) => n + (m.counts[state] ?? 0), 0);
  const counts = `active ${m.counts["active"]}, waiting ${m.counts["waiting"]}, prioritized ${m.counts["prioritized"]}, delayed ${m.counts["delayed"]}`;
  return [
    {
      name: "redis-waiting-memory",
      value: m.perRun,
      unit: "B of Redis per waiting run",
      baseline: `own keys ${fmt(m.perRunKeys)} B/run`,
      target: targetText(`< ${TARGET_BYTES / 1024} KB`, `${fmt(m.perRun / 1024)} KB`, m.perRun < TARGET_BYTES),
      note: `INFO used_memory delta over starting ${fmt(m.added)} waiting runs (one after another, ${fmt(m.fillS)} s), per run; ` +
        `own keys = the same delta of MEMORY USAGE summed over this benchmark's keys; of that, the run's hash ${fmt(m.hashBytes)} B ` +
        `(its RunState JSON ${fmt(m.jsonBytes)} B), the rest its entries in the SOP's indexes`,
    },
    {
      name: "redis-waiting-approve",
      value: manyP50,
      unit: `ms p50, ${fmt(percentile(m.many, 99))} ms p99 with ${fmt(WAITING)} waiting`,
      baseline: `${FEW} waiting: p50 ${fmt(fewP50)} ms, p99 ${fmt(percentile(m.few, 99))} ms`,
      ratio: `${ratioText(ratio)} p50 vs ${FEW} waiting`,
      target: targetText(`≈ 1× (≤ ${MAX_RATIO}×)`, ratioText(ratio), ratio <= MAX_RATIO),
      note: `approve → step_started, ${SAMPLES} approvals in each of two deployments, alternating (after ${WARM_UP} warm-up each); ` +
        `each approved run is replaced by a new waiting one`,
    },
    {
      name: "redis-waiting-jobs",
      value: held,
      unit: `BullMQ jobs held by ${fmt(WAITING)} waiting runs`,
      target: targetText("0 (worker concurrency all free)", String(held), held === 0),
      note: `getJobCounts while they wait: ${counts}`,
    },
  ];
}
