/** The engine over the Redis driver: several runners on one prefix behave as several processes. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { openDeployment } from "../../src/compose/open-deployment.ts";
import { SopError } from "../../src/app/sop-error.ts";
import { groupIsGone, processGroupOf } from "../helpers/process-group.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("runs over Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let prefix: string;
  const runners: SopRunner[] = [];
  /** Each node's BullMQ queue, to look at the job schedulers in Redis. */
  const bullQueues: Queue[] = [];
  const prefixes: string[] = [];

  const node = async (name: string, opts: { worker?: boolean; auditFiles?: boolean } = {}): Promise<SopRunner> => {
    const logsDir = join(ws.root, `logs-${name}`);
    await mkdir(logsDir, { recursive: true });
    const { runner, bullQueue } = await openDeployment({
      sopsDir: ws.sopsDir, logsDir, redisUrl: url!, env: ws.env({ SOP_REDIS_PREFIX: prefix, REDIS_URL: url! }),
      ...(opts.worker === false ? { worker: false } : {}),
      ...(opts.auditFiles === false ? { auditFiles: false } : {}),
    });
    runners.push(runner);
    if (bullQueue) bullQueues.push(bullQueue);
    return runner;
  };

  beforeEach(async () => {
    ws = await Workspace.create();
    prefix = testPrefix();
    prefixes.push(prefix);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.close()));
    bullQueues.length = 0;
    await ws.remove();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });

  it("runs deploy-production in a worker process, approved from a process that runs no worker", async () => {
    await ws.addExample("deploy-production");
    const worker = await node("worker");
    const bot = await node("bot", { worker: false });
    const first = await bot.execute("deploy-production", { vars: { version: "9.9.9" } });
    expect(first.status).toBe("awaiting_approval");
    expect(first.steps.slice(0, 2).map((s) => s.status)).toEqual(["success", "success"]);
    const second = await bot.approve("deploy-production", { actor: "api:bob", wait: true });
    expect(second.record.status).toBe("awaiting_approval");
    const done = await worker.approve("deploy-production", { actor: "api:carol", wait: true });
    expect(done.record).toMatchObject({ status: "success", metrics: { approval_waits: 2, steps_completed: 5 }, seq: 1 });
    // Both processes heard every event and keep their own LOGS_DIR complete.
    await until("the bot's audit file to be final", async () => {
      const records = await new Workspace_(join(ws.root, "logs-bot")).records("deploy-production");
      return records.length === 1 && records[0]!.status === "success";
    });
  });

  it("tells the process that keeps LOGS_DIR of an end another process made only once the final file is there", async () => {
    await ws.addSop("plain", `description = "x"\nexecution_mode = "automatic"`, steps("**Say**\n```sh\necho hi\n```"));
    // A `sop worker`: it keeps no audit files, and announces its ends at once.
    const worker = await node("worker", { auditFiles: false });
    const bot = await node("bot", { worker: false });
    const folder = join(ws.root, "logs-bot", "sop", "plain");
    // For each run_finished the bot's listeners hear: whether the final record was in its LOGS_DIR then.
    const heard: boolean[] = [];
    bot.events.subscribe((e) => {
      if (e.type === "run_finished") heard.push(finalFileIn(folder));
    });
    expect((await worker.execute("plain")).status).toBe("success");
    await until("the bot to hear the end", () => heard.length > 0);
    expect(heard).toEqual([true]);
  });

  it("lets exactly one of 100 simultaneous approvals from two processes decide the gate", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    const a = await node("a");
    const b = await node("b", { worker: false });
    const run = await a.execute("gated");
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) =>
      (i % 2 ? a : b).approve("gated", { runId: run.run_id, actor: `api:user${i}` })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const codes = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as SopError).code] : []));
    expect(new Set(codes)).toEqual(new Set(codes.filter((c) => c === "already_decided" || c === "finished" || c === "not_waiting")));
    await until("the run to finish", async () => (await a.record(run.run_id)).status === "success");
    expect((await a.record(run.run_id)).approvals[0]!.by).toHaveLength(1);
  });

  it("cancelling in one process kills the command that runs in another", async () => {
    await ws.addSop("slow", `description = "x"\nexecution_mode = "automatic"`, steps('**Sleep**\n```sh\necho $$ > "$TMPDIR/pid"; sleep 2; touch "$TMPDIR/survived"\n```', "**After**"));
    const worker = await node("worker");
    const bot = await node("bot", { worker: false });
    const run = await bot.execute("slow", { wait: false });
    const pgid = await until("the command to run in the worker", async () =>
      (await bot.run(run.run_id))?.run.steps[0]!.status === "running" && processGroupOf(Number(await readFile(join(ws.tmpDir, "pid"), "utf8").catch(() => "0"))));
    const started = Date.now();
    const { record } = await bot.cancel(run.run_id);
    expect(record.status).toBe("cancelled");
    // The worker's executor returns once its process group is gone; then the run is quiet.
    await until("the worker to let go of the run", async () => (await worker.getStatus("slow")).active.length === 0);
    expect(Date.now() - started).toBeLessThan(2_000);
    // No process of the command is left to touch the file later: its absence now is final.
    await until("the command's process group to be gone", () => groupIsGone(pgid), 1_000);
    expect(existsSync(join(ws.tmpDir, "survived"))).toBe(false);
  });

  it("fires each cron tick once across three processes, and stops when the schedule goes away", async () => {
    await ws.addSop("ticker", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 10\n[[triggers]]\ntype = "schedule"\ncron = "* * * * * *"`, steps("**Note**"));
    const nodes = [await node("a"), await node("b"), await node("c")];
    const bull = bullQueues[0]!;
    const defs = nodes[0]!.sops().map((s) => s.definition);
    for (const n of nodes) expect(await n.syncSchedules(defs)).toBe(true);
    expect(await bull.getJobSchedulersCount()).toBe(1);
    // BullMQ's job scheduler runs on Redis's clock, which a test cannot move: wait for two ticks.
    const runs = await until("runs of two ticks", async () => {
      const found = await nodes[0]!.runs({ sop: "ticker" });
      return found.length >= 2 && found;
    });
    // Each tick is one job, and the scheduler has made the next one by the time a tick runs: read
    // after the runs, its count of jobs (which only grows) is above theirs unless a tick ran twice.
    const [scheduler] = await bull.getJobSchedulers();
    expect(runs.length).toBeLessThan(scheduler!.iterationCount!);
    expect(runs.every((r) => r.trigger.type === "schedule" && r.trigger.source === "* * * * * *")).toBe(true);
    for (const n of nodes) await n.syncSchedules([]);
    // With no scheduler and no schedule job left in Redis, nothing can start another run.
    await until("the scheduler and its jobs to be gone", async () => await bull.getJobSchedulersCount() === 0 &&
      (await bull.getJobs(["delayed", "prioritized", "wait", "active"])).every((j) => j.name !== "schedule"));
  });

  it("accepts exactly one of 50 simultaneous executes of an SOP with a cooldown", async () => {
    await ws.addSop("cool", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 600`, steps("**Note**"));
    const a = await node("a");
    const b = await node("b");
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).execute("cool", { wait: false })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refusals = results.flatMap((r) => (r.status === "rejected" ? [r.reason as SopError] : []));
    expect(refusals.every((e) => e.code === "cooldown" && (e.details.retryAfterSecs ?? 0) > 590)).toBe(true);
  });
});

/** Reads the audit records of another LOGS_DIR. */
/** Whether `folder` holds one audit file, and it is a final (sealed) record. */
function finalFileIn(folder: string): boolean {
  const names = existsSync(folder) ? readdirSync(folder).filter((n) => n.endsWith(".json") && !n.startsWith(".")) : [];
  return names.length === 1 && typeof (JSON.parse(readFileSync(join(folder, names[0]!), "utf8")) as { hash?: unknown }).hash === "string";
}

class Workspace_ {
  constructor(private readonly logsDir: string) {}
  async records(sop: string) {
    const { readdir, readFile } = await import("node:fs/promises");
    const dir = join(this.logsDir, "sop", sop);
    const files = await readdir(dir).catch(() => [] as string[]);
    return Promise.all(files.filter((f) => f.endsWith(".json")).map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as { status: string }));
  }
}
