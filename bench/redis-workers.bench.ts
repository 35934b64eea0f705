/**
 * Scaling out: runs per second of a one-step SOP (`true`, a real command) with 1, 2 and 4
 * `sop worker` processes (concurrency 4 each) on one Redis, fed by a process without a worker
 * (the bot, as `sop serve` with SOP_WORKER=0). The baseline is the 1-worker figure of the same
 * run; the ratios say how far more processes help. The machine has few cores, so each row also
 * says where the CPU went per run (workers, bot, Redis) and how busy the cores were (ours, and
 * the whole machine, which includes whatever else ran), which tells CPU-bound from serialised.
 *
 * `redis-io-workers` is the same with I/O-bound work: 200 runs whose one step sleeps 0.2 s,
 * through 1 and through 4 workers. Four workers hold four times the slots, so they should take
 * well under half the time even on two cores (target ≥ 3×): what scaling out is for.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import {
  commandCalls, connect, machineCpuSeconds, processCpuSeconds, REDIS_URL, redisCpuSeconds, startSopWorker, stopSopWorker, withPrefix,
} from "./redis-env.ts";
import { collectGarbage } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const CONCURRENCY = 4;
/**
 * Runs kept in flight, the same for every worker count: the slots of 4 workers, so the offered
 * load never limits them. (Not all 300 at once: every run's end nudges every queued run, so a
 * long line costs each run an O(line) amount of Redis work, which would measure admission, not
 * the workers; redis-throughput shows that cost. For the same reason the window is not scaled
 * with the worker count.)
 */
const WINDOW = 16;

/** What is measured: an SOP of one step, how many runs, through which worker counts. */
interface Shape {
  sop: string;
  command: string;
  runs: number;
  warmUp: number;
  workerCounts: readonly number[];
}

const CPU_BOUND: Shape = { sop: "one-true", command: "true", runs: 300, warmUp: 30, workerCounts: [1, 2, 4] };
const IO_BOUND: Shape = { sop: "one-sleep", command: "sleep 0.2", runs: 200, warmUp: 16, workerCounts: [1, 4] };

const toml = (shape: Shape): string => `[sop]
name = "${shape.sop}"
description = "One real command"
execution_mode = "automatic"
cooldown_secs = 0
max_concurrent = 1000
`;

const md = (shape: Shape): string => `# ${shape.sop}

## Steps

1. **Run ${shape.command}**
   \`\`\`sh
   ${shape.command}
   \`\`\`
`;

/** Keeps `window` runs in flight until `count` ran: a steady load with a short line. */
async function windowed(bot: SopRunner, sop: string, count: number, window: number): Promise<void> {
  let started = 0;
  let done = 0;
  const failed: string[] = [];
  let settle: (error?: Error) => void = () => undefined;
  const all = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  const startOne = (): void => {
    started++;
    bot.execute(sop, { wait: false }).catch((error: unknown) => settle(error instanceof Error ? error : new Error(String(error))));
  };
  const stop = bot.events.subscribe((e) => {
    if (e.type !== "run_finished") return;
    done++;
    if (e.status !== "success") failed.push(`${e.runId} ${e.status}`);
    if (started < count) startOne();
    else if (done >= count) settle(failed.length > 0 ? new Error(`${failed.length} runs did not succeed, e.g. ${failed[0]}`) : undefined);
  });
  try {
    for (let i = 0; i < Math.min(window, count); i++) startOne();
    await all;
  } finally {
    stop();
  }
}

interface Row {
  workers: number;
  rate: number;
  wallS: number;
  /** CPU seconds over the measured runs (the machine: busy CPU seconds of all its cores). */
  workerCpu: number;
  botCpu: number;
  redisCpu: number;
  machineBusy: number;
  redisCalls: number;
  /** Audit files per run in the workers' LOGS_DIRs together (each process mirrors every run). */
  workerAuditCopies: number;
}

async function auditFiles(logsDir: string, sop: string): Promise<number> {
  const names = await readdir(join(logsDir, "sop", sop)).catch(() => []);
  return names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).length;
}

async function measure(ws: TempWorkspace, shape: Shape, workers: number): Promise<Row> {
  const { sop, runs: RUNS, warmUp: WARM_UP_RUNS } = shape;
  return withPrefix(`${sop}-workers${workers}`, async (prefix) => {
    const env = { ...ws.env(), REDIS_URL, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir };
    const children: ChildProcess[] = [];
    const logsDirs = Array.from({ length: workers }, (_, i) => join(ws.root, `worker-logs-${workers}-${i}`));
    const probe = connect();
    let row: Omit<Row, "workerAuditCopies">;
    try {
      // Each worker keeps its own LOGS_DIR, as on separate machines: every process hears every
      // event and writes every run's audit file.
      const started = await Promise.all(logsDirs.map(async (logsDir) => {
        await mkdir(logsDir);
        return startSopWorker({ ...env, LOGS_DIR: logsDir, SOP_WORKER_CONCURRENCY: String(CONCURRENCY) }, ws.root);
      }));
      children.push(...started);
      row = await withRunner(ws, async (bot) => {
        await windowed(bot, sop, WARM_UP_RUNS, WINDOW);
        collectGarbage();
        const cpu0 = {
          workers: children.reduce((s, c) => s + processCpuSeconds(c.pid!), 0),
          bot: process.cpuUsage(),
          redis: await redisCpuSeconds(probe),
          machine: machineCpuSeconds(),
          calls: await commandCalls(probe),
        };
        const start = performance.now();
        await windowed(bot, sop, RUNS, WINDOW);
        const wallMs = performance.now() - start;
        const bot1 = process.cpuUsage(cpu0.bot);
        const machine = machineCpuSeconds();
        return {
          workers,
          rate: (RUNS * 1000) / wallMs,
          wallS: wallMs / 1000,
          workerCpu: children.reduce((s, c) => s + processCpuSeconds(c.pid!), 0) - cpu0.workers,
          botCpu: (bot1.user + bot1.system) / 1e6,
          redisCpu: (await redisCpuSeconds(probe)) - cpu0.redis,
          machineBusy: machine.busy - cpu0.machine.busy,
          redisCalls: (await commandCalls(probe)) - cpu0.calls,
        };
      }, { redisUrl: REDIS_URL, env, worker: false });
    } finally {
      await Promise.all(children.map(stopSopWorker));
      probe.disconnect();
    }
    // Counted once the workers exited, which waits for their writes.
    const copies = (await Promise.all(logsDirs.map((dir) => auditFiles(dir, sop)))).reduce((a, b) => a + b, 0);
    return { ...row, workerAuditCopies: copies / (WARM_UP_RUNS + RUNS) };
  });
}

async function measureShape(shape: Shape, name: string, withTarget: boolean): Promise<BenchResult[]> {
  return withWorkspace(name, async (ws) => {
    await ws.addSop(shape.sop, toml(shape), md(shape));
    const rows: Row[] = [];
    for (const workers of shape.workerCounts) rows.push(await measure(ws, shape, workers));
    const one = rows[0]!;
    const cores = availableParallelism();
    return rows.map((r) => {
      const ours = r.workerCpu + r.botCpu + r.redisCpu;
      const perRun = (cpuS: number) => fmt((cpuS * 1000) / shape.runs);
      const ratio = r.rate / one.rate;
      return {
        name: `${name}-${r.workers}`,
        value: r.rate,
        unit: "runs/s",
        baseline: `1 worker ${fmt(one.rate)} runs/s`,
        ratio: `${ratioText(ratio)} of 1 worker`,
        ...(withTarget && r.workers === 4 ? { target: targetText("≥ 3× of 1 worker", ratioText(ratio), ratio >= 3) } : {}),
        note: `${shape.runs} runs of one \`${shape.command}\` step, ${WINDOW} in flight, ${r.workers} × sop worker (concurrency ${CONCURRENCY}), ` +
          `${fmt(r.wallS)} s; CPU ms/run: workers ${perRun(r.workerCpu)} (with their commands), bot ${perRun(r.botCpu)}, Redis ${perRun(r.redisCpu)}; ` +
          `cores busy: ours ${fmt(ours / r.wallS)}, whole machine ${fmt(r.machineBusy / r.wallS)} of ${cores}; ${fmt(r.redisCalls / shape.runs)} Redis commands/run; ` +
          `audit files per run: ${fmt(r.workerAuditCopies)} in the workers' LOGS_DIRs + 1 by the bot`,
      };
    });
  });
}

export function benchRedisWorkers(): Promise<BenchResult[]> {
  return measureShape(CPU_BOUND, "redis-workers", false);
}

/** Issue 13's scaling target: runs that wait on I/O go ≥ 3× faster through 4 workers than through 1. */
export function benchRedisIoWorkers(): Promise<BenchResult[]> {
  return measureShape(IO_BOUND, "redis-io-workers", true);
}
