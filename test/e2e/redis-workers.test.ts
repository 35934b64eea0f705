/**
 * Several `sop worker` processes on one Redis: admission and recovery hold across processes.
 * The test process itself is a node without a worker (like `sop serve` with SOP_WORKER=0).
 */
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { createSopRunner } from "../../src/compose/open-deployment.ts";
import { spawnSop } from "../helpers/cli.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("sop worker processes on one Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let prefix: string;
  let bot: SopRunner | undefined;
  const workers: ChildProcess[] = [];
  const prefixes: string[] = [];

  const env = (extra: Record<string, string> = {}) => ws.env({
    REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir, LOGS_DIR: join(ws.root, "worker-logs"),
    SOP_LOCK_DURATION_MS: "2000", SOP_STALLED_INTERVAL_MS: "1000", ...extra,
  });

  const startWorker = (extra: Record<string, string> = {}): ChildProcess => {
    const child = spawnSop(["worker"], { cwd: ws.root, env: env(extra) });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code, signal) => {
      if (code && code !== 0 && signal === null) console.error(`sop worker exited ${code}: ${err}`);
    });
    workers.push(child);
    return child;
  };

  const startBot = async (): Promise<SopRunner> => {
    bot = await createSopRunner({ sopsDir: ws.sopsDir, logsDir: ws.logsDir, redisUrl: url!, env: env(), worker: false });
    return bot;
  };

  beforeEach(async () => {
    ws = await Workspace.create();
    prefix = testPrefix();
    prefixes.push(prefix);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
    await bot?.close();
    bot = undefined;
    await ws.remove();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });

  it("never has more than max_concurrent runs of an SOP active across three workers (200 runs)", async () => {
    await ws.addSop("limited", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 2`, steps("**Work**\n```sh\nsleep 0.02\n```"));
    const runner = await startBot();
    for (let i = 0; i < 3; i++) startWorker({ SOP_WORKER_CONCURRENCY: "4" });
    const runs = await Promise.all(Array.from({ length: 200 }, () => runner.execute("limited", { wait: false })));
    const records = await until("all 200 runs to end", async () => {
      const all = await Promise.all(runs.map((r) => runner.record(r.run_id)));
      return all.every((r) => r.status === "success") ? all : undefined;
    }, 120_000);
    const edges = records.flatMap((r) => [
      { at: Date.parse(r.started_at!), delta: 1 },
      { at: Date.parse(r.completed_at!), delta: -1 },
    ]).sort((a, b) => a.at - b.at || a.delta - b.delta);
    let active = 0;
    let most = 0;
    for (const e of edges) most = Math.max(most, (active += e.delta));
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
  });

  it("starts critical runs before low ones waiting in the same queue", async () => {
    await ws.addSop("low-prio", `description = "x"\nexecution_mode = "automatic"\npriority = "low"\nmax_concurrent = 100`, steps("**Work**\n```sh\nsleep 0.05\n```"));
    await ws.addSop("urgent", `description = "x"\nexecution_mode = "automatic"\npriority = "critical"\nmax_concurrent = 100`, steps("**Work**\n```sh\nsleep 0.05\n```"));
    const runner = await startBot();
    const low = await Promise.all(Array.from({ length: 20 }, () => runner.execute("low-prio", { wait: false })));
    const urgent = await Promise.all(Array.from({ length: 20 }, () => runner.execute("urgent", { wait: false })));
    startWorker({ SOP_WORKER_CONCURRENCY: "1" });
    const records = await until("all runs to end", async () => {
      const all = await Promise.all([...low, ...urgent].map((r) => runner.record(r.run_id)));
      return all.every((r) => r.status === "success") ? all : undefined;
    }, 60_000);
    const starts = (sop: string) => records.filter((r) => r.sop === sop).map((r) => Date.parse(r.started_at!)).sort((a, b) => a - b);
    expect(starts("urgent").at(-1)!).toBeLessThanOrEqual(starts("low-prio")[0]!);
  });

  it("after kill -9 of a worker mid-step, another worker re-runs the interrupted step (retries) and never a completed one", async () => {
    await ws.addSop("crashy", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**Count**\n```sh\necho x >> "$TMPDIR/count"\n```',
      '**Long** [retries: 1]\n```sh\nif [ -f "$TMPDIR/was-here" ]; then echo second try; exit 0; fi\ntouch "$TMPDIR/was-here"; sleep 60\n```',
    ));
    const runner = await startBot();
    const doomed = startWorker();
    const run = await runner.execute("crashy", { wait: false });
    await until("the long step to run", () => readFile(join(ws.tmpDir, "was-here")).then(() => true, () => false), 30_000);
    doomed.kill("SIGKILL");
    startWorker();
    const record = await until("another worker to finish the run", async () => {
      const r = await runner.record(run.run_id);
      return r.status === "success" || r.status === "failed" ? r : undefined;
    }, 60_000);
    expect(record.status).toBe("success");
    expect(record.steps[1]!.output).toContain("interrupted; retry 1 of 1");
    expect(record.steps[1]!.output).toContain("second try");
    expect(await readFile(join(ws.tmpDir, "count"), "utf8")).toBe("x\n");
  });
});
