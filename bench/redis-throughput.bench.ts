/**
 * End-to-end no-op runs per second through BullMQ on Redis: a burst of runs of a 3-note SOP
 * (no commands) started with `wait: false` from a process that runs a worker (concurrency 8),
 * counted until every `run_finished` was heard and every audit file is on disk; and the same
 * runs as a library user starts them, `runner.execute()` awaited (it resolves when the run ended
 * and its record is on disk) for 300 runs at once (`redis-throughput-awaited`). The baseline,
 * measured in the same run on the same Redis, is raw BullMQ: the same number of no-op jobs added
 * at once (same priority and removal options as the runner's jobs) to a queue whose `Worker` has
 * the same concurrency. The ratio is the share of bare BullMQ's rate a real run keeps.
 * `redis-floor` (no target) is the same burst through the store and queue alone, without the
 * engine: the most this design could reach (see redis-floor.ts).
 */
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { commandCalls, connect, REDIS_URL, redisCpuSeconds, sentCommands, withPrefix } from "./redis-env.ts";
import { collectGarbage, median } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";
import { NO_OP_MD, NO_OP_SOP, burst, noOpToml } from "./no-op-burst.ts";
import { openFloor } from "./redis-floor.ts";

const RUNS = 500;
/** Runs awaited at once through `runner.execute()`, as a library user would. */
const AWAITED_RUNS = 300;
const WARM_UP_RUNS = 50;
/** Rounds are repeated (median taken) while they are quick; one round when a burst takes seconds. */
const MAX_ROUNDS = 3;
const ROUNDS_BUDGET_MS = 3_000;
const CONCURRENCY = 8;
const TARGET_RATIO = 0.5;
const SOP = NO_OP_SOP;
const TOML = noOpToml(1000);
const MD = NO_OP_MD;

/** BullMQ's number for the runner's default priority (medium). */
const MEDIUM = 3;


interface Timed {
  /** Median of the rounds, ms. */
  ms: number;
  rounds: number[];
  /** Redis's own CPU seconds and its commands (scripts count once), per run or job, over the rounds. */
  redisCpuUs: number;
  redisCalls: number;
  /** Commands this process sent, and its own CPU (every thread), per run or job, over the rounds. */
  sentCalls: number;
  nodeCpuUs: number;
}

/** Times `round` (`per` runs or jobs) until MAX_ROUNDS or ROUNDS_BUDGET_MS, with Redis's CPU and commands over all of it. */
async function timeRounds(probe: Redis, per: number, round: () => Promise<void>): Promise<Timed> {
  const rounds: number[] = [];
  const cpu0 = await redisCpuSeconds(probe);
  const calls0 = await commandCalls(probe);
  const sent0 = sentCommands();
  const node0 = process.cpuUsage();
  do {
    collectGarbage();
    const start = performance.now();
    await round();
    rounds.push(performance.now() - start);
  } while (rounds.length < MAX_ROUNDS && rounds.reduce((a, b) => a + b, 0) < ROUNDS_BUDGET_MS);
  const units = rounds.length * per;
  const node = process.cpuUsage(node0);
  const sentCalls = (sentCommands() - sent0) / units;
  return {
    sentCalls,
    nodeCpuUs: (node.user + node.system) / units,
    ms: median(rounds),
    rounds,
    redisCpuUs: (((await redisCpuSeconds(probe)) - cpu0) * 1e6) / units,
    redisCalls: ((await commandCalls(probe)) - calls0) / units,
  };
}

/** `count` runs started at once through `runner.execute()`, each awaited until it ended. */
async function awaited(runner: SopRunner, count: number): Promise<void> {
  const records = await Promise.all(Array.from({ length: count }, () => runner.execute(NO_OP_SOP)));
  const failed = records.filter((r) => r.status !== "success");
  if (failed.length > 0) throw new Error(`${failed.length} awaited runs did not succeed, e.g. ${failed[0]?.run_id} ${failed[0]?.status}`);
}

async function runnerRounds(ws: TempWorkspace, prefix: string, mode: "burst" | "awaited"): Promise<Timed> {
  const env = { ...ws.env(), REDIS_URL, SOP_REDIS_PREFIX: prefix };
  const probe = connect();
  try {
    return await withRunner(ws, async (runner) => {
      await burst(runner, WARM_UP_RUNS);
      return mode === "burst"
        ? timeRounds(probe, RUNS, () => burst(runner, RUNS))
        : timeRounds(probe, AWAITED_RUNS, () => awaited(runner, AWAITED_RUNS));
    }, { redisUrl: REDIS_URL, env, concurrency: CONCURRENCY });
  } finally {
    probe.disconnect();
  }
}

/** The store's and queue's own work per run, without the engine (see redis-floor.ts). */
async function floorRounds(ws: TempWorkspace, prefix: string): Promise<Timed> {
  const connection = connect();
  try {
    const floor = await openFloor(connection, prefix, ws.sopsDir, CONCURRENCY);
    try {
      await floor.burst(WARM_UP_RUNS);
      return await timeRounds(connection, RUNS, () => floor.burst(RUNS));
    } finally {
      await floor.close();
    }
  } finally {
    connection.disconnect();
  }
}

/** Raw BullMQ: RUNS no-op jobs added at once, timed until the worker completed all of them. */
async function rawRounds(prefix: string): Promise<Timed> {
  const connection = connect();
  const queue = new Queue("raw", { connection, prefix });
  let completed = 0;
  let wake: () => void = () => undefined;
  const worker = new Worker("raw", async () => undefined, { connection, prefix, concurrency: CONCURRENCY });
  worker.on("completed", () => {
    completed++;
    wake();
  });
  const jobs = async (count: number): Promise<void> => {
    completed = 0;
    await Promise.all(Array.from({ length: count }, (_, i) => queue.add("noop", { i }, { priority: MEDIUM, removeOnComplete: true })));
    while (completed < count) await new Promise<void>((resolve) => (wake = resolve));
  };
  try {
    await worker.waitUntilReady();
    await jobs(WARM_UP_RUNS);
    return await timeRounds(connection, RUNS, () => jobs(RUNS));
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}

export async function benchRedisThroughput(): Promise<BenchResult[]> {
  const raw = await withPrefix("raw", rawRounds);
  const measure = (mode: "burst" | "awaited", per: number) => withPrefix("throughput", (prefix) => withWorkspace("redis-throughput", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    const timed = await runnerRounds(ws, prefix, mode);
    // Counted after close(), which waits for every write: each run must have left its record.
    const expected = WARM_UP_RUNS + timed.rounds.length * per;
    const files = await ws.auditFileCount(SOP);
    if (files !== expected) throw new Error(`expected ${expected} audit files, found ${files}`);
    return timed;
  }));
  const floor = await withPrefix("floor", (prefix) => withWorkspace("redis-floor", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    return floorRounds(ws, prefix);
  }));
  const runs = await measure("burst", RUNS);
  const awaitedRuns = await measure("awaited", AWAITED_RUNS);

  const rawRate = (RUNS * 1000) / raw.ms;
  const ms = (t: Timed) => t.rounds.map(fmt).join(", ");
  const line = (name: string, per: number, timed: Timed, how: string): BenchResult => {
    const rate = (per * 1000) / timed.ms;
    const ratio = rate / rawRate;
    return {
      name,
      value: rate,
      unit: "runs/s",
      baseline: `raw BullMQ ${fmt(rawRate)} jobs/s`,
      ratio: `${ratioText(ratio)} of raw BullMQ`,
      target: targetText(`≥ ${TARGET_RATIO}×`, ratioText(ratio), ratio >= TARGET_RATIO),
      note: `${per} no-op runs (3 notes, audit written) ${how}, worker concurrency ${CONCURRENCY}, after ${WARM_UP_RUNS} warm-up; ` +
        `median of ${timed.rounds.length} round(s) (${ms(timed)} ms; raw ${ms(raw)} ms for ${RUNS} jobs); per run vs per raw job: ` +
        `Redis CPU ${fmt(timed.redisCpuUs)} vs ${fmt(raw.redisCpuUs)} µs, Redis commands ${fmt(timed.redisCalls)} vs ${fmt(raw.redisCalls)} ` +
        `(all users of this Redis); sent by this process ${fmt(timed.sentCalls)} vs ${fmt(raw.sentCalls)}, its CPU ${fmt(timed.nodeCpuUs)} vs ${fmt(raw.nodeCpuUs)} µs`,
    };
  };
  const floorRate = (RUNS * 1000) / floor.ms;
  return [
    {
      name: "redis-floor",
      value: floorRate,
      unit: "runs/s",
      baseline: `raw BullMQ ${fmt(rawRate)} jobs/s`,
      ratio: `${ratioText(floorRate / rawRate)} of raw BullMQ`,
      note: `the ceiling of the two figures below in this design: ${RUNS} runs of the same SOP, each only admitted, queued as one BullMQ job and sealed ` +
        `by one transition (the store's and queue's work that every run needs), no engine, audit files or events; worker concurrency ${CONCURRENCY}; ` +
        `median of ${floor.rounds.length} round(s) (${ms(floor)} ms); per run: Redis CPU ${fmt(floor.redisCpuUs)} µs, Redis commands ${fmt(floor.redisCalls)}, ` +
        `sent ${fmt(floor.sentCalls)}, this process's CPU ${fmt(floor.nodeCpuUs)} µs`,
    },
    line("redis-throughput", RUNS, runs, "started at once, awaited by their run_finished events"),
    line("redis-throughput-awaited", AWAITED_RUNS, awaitedRuns, "started at once through runner.execute(), each awaited until it ended"),
  ];
}
