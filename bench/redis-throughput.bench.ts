/**
 * End-to-end no-op runs per second through BullMQ on Redis: a burst of runs of a 3-note SOP
 * (no commands) started with `wait: false` from a process that runs a worker (concurrency 8),
 * counted until every `run_finished` was heard and every audit file is on disk; and the same
 * runs as a library user starts them, `runner.execute()` awaited (it resolves when the run ended
 * and its record is on disk) for 300 runs at once (`redis-throughput-awaited`). The baseline,
 * measured in the same run on the same Redis, is raw BullMQ: the same number of no-op jobs added
 * at once (same priority and removal options as the runner's jobs) to a queue whose `Worker` has
 * the same concurrency. The ratio is the share of bare BullMQ's rate a real run keeps. All are
 * opened first and their rounds taken in turn, so a change in the machine's load (the baseline
 * alone moved 2× between runs taken one after another) falls on all of them alike.
 * `redis-floor` (no target) is the same burst through the store and queue alone, without the
 * engine: the most this design could reach (see redis-floor.ts).
 */
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { commandCalls, connect, openPrefix, REDIS_URL, redisCpuSeconds, sentCommands } from "./redis-env.ts";
import { collectGarbage, median } from "./stats.ts";
import { TempWorkspace } from "./temp-workspace.ts";
import { NO_OP_MD, NO_OP_SOP, burst, noOpToml } from "./no-op-burst.ts";
import { openFloor } from "./redis-floor.ts";

const RUNS = 500;
/** Runs awaited at once through `runner.execute()`, as a library user would. */
const AWAITED_RUNS = 300;
const WARM_UP_RUNS = 50;
/** Rounds per contender, the median taken. */
const ROUNDS = 3;
const CONCURRENCY = 8;
const TARGET_RATIO = 0.5;
const SOP = NO_OP_SOP;
const TOML = noOpToml(1000);
const MD = NO_OP_MD;

/** BullMQ's number for the runner's default priority (medium). */
const MEDIUM = 3;

/**
 * One of the measured: opened (and warmed up) first, then asked for rounds in turn with the
 * others, so that a change in the machine's load falls on all of them alike, then closed.
 */
interface Contender {
  /** Runs or jobs per round. */
  per: number;
  round(): Promise<void>;
  close(): Promise<void>;
}

interface Timed {
  /** Median of the rounds, ms. */
  ms: number;
  rounds: number[];
  /** Redis's own CPU and its commands (a script's inner ones included), per run or job, over the rounds. */
  redisCpuUs: number;
  redisCalls: number;
  /** Commands this process sent, and its own CPU (every thread), per run or job, over the rounds. */
  sentCalls: number;
  nodeCpuUs: number;
}

/** ROUNDS rounds of each contender, taken in turn (A B C D A B C D …), with Redis's CPU and commands per round. */
async function interleave(probe: Redis, contenders: readonly Contender[]): Promise<Timed[]> {
  const totals = contenders.map(() => ({ rounds: [] as number[], redisCpu: 0, redisCalls: 0, sent: 0, nodeCpu: 0 }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, contender] of contenders.entries()) {
      const total = totals[i]!;
      collectGarbage();
      const cpu0 = await redisCpuSeconds(probe);
      const calls0 = await commandCalls(probe);
      const sent0 = sentCommands();
      const node0 = process.cpuUsage();
      const start = performance.now();
      await contender.round();
      total.rounds.push(performance.now() - start);
      const node = process.cpuUsage(node0);
      total.nodeCpu += node.user + node.system;
      total.sent += sentCommands() - sent0;
      total.redisCpu += ((await redisCpuSeconds(probe)) - cpu0) * 1e6;
      total.redisCalls += (await commandCalls(probe)) - calls0;
    }
  }
  return totals.map((t, i) => {
    const units = t.rounds.length * contenders[i]!.per;
    return {
      ms: median(t.rounds),
      rounds: t.rounds,
      redisCpuUs: t.redisCpu / units,
      redisCalls: t.redisCalls / units,
      sentCalls: t.sent / units,
      nodeCpuUs: t.nodeCpu / units,
    };
  });
}

/** `count` runs started at once through `runner.execute()`, each awaited until it ended. */
async function awaited(runner: SopRunner, count: number): Promise<void> {
  const records = await Promise.all(Array.from({ length: count }, () => runner.execute(NO_OP_SOP)));
  const failed = records.filter((r) => r.status !== "success");
  if (failed.length > 0) throw new Error(`${failed.length} awaited runs did not succeed, e.g. ${failed[0]?.run_id} ${failed[0]?.status}`);
}

/** Closes what was opened, newest first; every closer runs, the first error is thrown after. */
class Opened {
  private readonly closers: (() => Promise<void>)[] = [];

  add(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  async close(): Promise<void> {
    let first: Error | undefined;
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch (error) {
        first ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    if (first !== undefined) throw first;
  }
}

/** A workspace with the no-op SOP, and a prefix of its own, both removed when `opened` closes. */
async function openPlace(opened: Opened, label: string): Promise<{ ws: TempWorkspace; prefix: string }> {
  const { prefix, release } = openPrefix(label);
  opened.add(release);
  const ws = await TempWorkspace.create(label);
  opened.add(() => ws.remove());
  await ws.addSop(SOP, TOML, MD);
  return { ws, prefix };
}

/** The runner as a deployment runs it; on close, every run of it must have left its audit file. */
async function openRunner(opened: Opened, mode: "burst" | "awaited"): Promise<Contender> {
  const { ws, prefix } = await openPlace(opened, `throughput-${mode}`);
  const env = { ...ws.env(), REDIS_URL, SOP_REDIS_PREFIX: prefix };
  const { runner } = await ws.deployment({ redisUrl: REDIS_URL, env, concurrency: CONCURRENCY });
  if (runner.diagnostics.some((d) => d.severity === "error")) {
    await runner.close();
    throw new Error(`benchmark SOP is invalid: ${runner.diagnostics.map((d) => d.message).join("; ")}`);
  }
  await burst(runner, WARM_UP_RUNS);
  const per = mode === "burst" ? RUNS : AWAITED_RUNS;
  let rounds = 0;
  return {
    per,
    round: async () => {
      await (mode === "burst" ? burst(runner, RUNS) : awaited(runner, AWAITED_RUNS));
      rounds++;
    },
    close: async () => {
      // Counted after close(), which waits for every write: each run must have left its record.
      await runner.close();
      const expected = WARM_UP_RUNS + rounds * per;
      const files = await ws.auditFileCount(SOP);
      if (files !== expected) throw new Error(`expected ${expected} audit files, found ${files}`);
    },
  };
}

/** The store's and queue's own work per run, without the engine (see redis-floor.ts). */
async function openFloorContender(opened: Opened): Promise<Contender> {
  const { ws, prefix } = await openPlace(opened, "floor");
  const connection = connect();
  opened.add(async () => {
    connection.disconnect();
  });
  const floor = await openFloor(connection, prefix, ws.sopsDir, CONCURRENCY);
  await floor.burst(WARM_UP_RUNS);
  return { per: RUNS, round: () => floor.burst(RUNS), close: () => floor.close() };
}

/** Raw BullMQ: RUNS no-op jobs added at once, timed until the worker completed all of them. */
async function openRaw(opened: Opened): Promise<Contender> {
  const { prefix, release } = openPrefix("raw");
  opened.add(release);
  const connection = connect();
  opened.add(async () => {
    connection.disconnect();
  });
  const queue = new Queue("raw", { connection, prefix });
  let completed = 0;
  let wake: () => void = () => undefined;
  const worker = new Worker("raw", async () => undefined, { connection, prefix, concurrency: CONCURRENCY });
  worker.on("completed", () => {
    completed++;
    wake();
  });
  const close = async () => {
    await worker.close();
    await queue.close();
  };
  const jobs = async (count: number): Promise<void> => {
    completed = 0;
    await Promise.all(Array.from({ length: count }, (_, i) => queue.add("noop", { i }, { priority: MEDIUM, removeOnComplete: true })));
    while (completed < count) await new Promise<void>((resolve) => (wake = resolve));
  };
  try {
    await worker.waitUntilReady();
    await jobs(WARM_UP_RUNS);
  } catch (error) {
    await close();
    throw error;
  }
  return { per: RUNS, round: () => jobs(RUNS), close };
}

export async function benchRedisThroughput(): Promise<BenchResult[]> {
  const opened = new Opened();
  const probe = connect();
  opened.add(async () => {
    probe.disconnect();
  });
  let timed: Timed[];
  try {
    const contenders: Contender[] = [];
    for (const open of [openRaw, openFloorContender, (o: Opened) => openRunner(o, "burst"), (o: Opened) => openRunner(o, "awaited")]) {
      const contender = await open(opened);
      opened.add(() => contender.close());
      contenders.push(contender);
    }
    timed = await interleave(probe, contenders);
  } finally {
    await opened.close();
  }
  const [raw, floor, runs, awaitedRuns] = timed as [Timed, Timed, Timed, Timed];

  const rawRate = (RUNS * 1000) / raw.ms;
  const ms = (t: Timed) => t.rounds.map(fmt).join(", ");
  const perRun = (t: Timed, against?: Timed) => {
    const vs = (mine: number, theirs: number | undefined) => (theirs === undefined ? fmt(mine) : `${fmt(mine)} vs ${fmt(theirs)}`);
    return `Redis CPU ${vs(t.redisCpuUs, against?.redisCpuUs)} µs, Redis commands ${vs(t.redisCalls, against?.redisCalls)} (all users of this Redis); ` +
      `sent by this process ${vs(t.sentCalls, against?.sentCalls)}, its CPU ${vs(t.nodeCpuUs, against?.nodeCpuUs)} µs`;
  };
  const rounds = `rounds taken in turn with the others (raw BullMQ ${ms(raw)} ms for ${RUNS} jobs)`;
  const line = (name: string, per: number, t: Timed, how: string): BenchResult => {
    const rate = (per * 1000) / t.ms;
    const ratio = rate / rawRate;
    return {
      name,
      value: rate,
      unit: "runs/s",
      baseline: `raw BullMQ ${fmt(rawRate)} jobs/s`,
      ratio: `${ratioText(ratio)} of raw BullMQ`,
      target: targetText(`≥ ${TARGET_RATIO}×`, ratioText(ratio), ratio >= TARGET_RATIO),
      note: `${per} no-op runs (3 notes, audit written) ${how}, worker concurrency ${CONCURRENCY}, after ${WARM_UP_RUNS} warm-up; ` +
        `median of ${t.rounds.length} (${ms(t)} ms), ${rounds}; per run vs per raw job: ${perRun(t, raw)}`,
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
        `median of ${floor.rounds.length} (${ms(floor)} ms), ${rounds}; per run: ${perRun(floor)}`,
    },
    line("redis-throughput", RUNS, runs, "started at once, awaited by their run_finished events"),
    line("redis-throughput-awaited", AWAITED_RUNS, awaitedRuns, "started at once through runner.execute(), each awaited until it ended"),
  ];
}
