/**
 * What only the Redis driver does: share one deployment between processes (two driver
 * instances on one prefix stand for two processes), keep deployments apart, and survive
 * connection trouble. The port behaviour itself is in test/contract.
 */
import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { keyPrefix, openRedisDriver, type RedisDriver, type RedisDriverOptions } from "../../src/drivers/redis/index.ts";
import { admitNow, bumped, startRun, storedRun } from "../contract/fixtures.ts";
import { deleteKeys, keysMatching, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { until } from "../helpers/until.ts";

const url = await redisUrlForTests();

if (url === undefined) {
  describe.skip("Redis driver", () => {
    it("needs a Redis: see the REDIS SUITES SKIPPED line", () => undefined);
  });
} else {
  describeRedisDriver(url);
}

function describeRedisDriver(redisUrl: string): void {
describe("Redis driver", () => {
  const filePrefix = testPrefix();
  let n = 0;
  const opened: RedisDriver[] = [];
  const admin = new Redis(redisUrl);

  async function open(prefix: string, extra: Partial<RedisDriverOptions> = {}): Promise<RedisDriver> {
    const driver = await openRedisDriver({ url: redisUrl, prefix, lockDurationMs: 5_000, stalledIntervalMs: 5_000, ...extra });
    opened.push(driver);
    return driver;
  }
  /** Two drivers on one prefix: two processes of one deployment. */
  async function twoProcesses(): Promise<[RedisDriver, RedisDriver, string]> {
    const prefix = `${filePrefix}-${++n}`;
    return [await open(prefix), await open(prefix), prefix];
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    await deleteKeys(redisUrl, filePrefix);
    await admin.quit();
  });

  it("tells every process of every event, each exactly once", async () => {
    const [a, b] = await twoProcesses();
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.events.subscribe((e) => seenByA.push(e.runId));
    b.events.subscribe((e) => {
      seenByB.push(e.runId);
      // Published after B heard A's event, so A's own echo, if it came back, would come first.
      if (e.runId === "from-a") void b.events.publish(ev("from-b"));
    });
    await a.events.publish(ev("from-a"));
    await until("A heard B", () => seenByA.includes("from-b"));
    expect(seenByA).toEqual(["from-a", "from-b"]);
    expect(seenByB).toEqual(["from-a", "from-b"]);
  });

  it("lets exactly one of 100 updates from the same revision win when they come from two processes", async () => {
    const [a, b] = await twoProcesses();
    await a.store.admit(storedRun("r1"), admitNow);
    const run = (await b.store.get("r1"))!.run;
    const stores = [a.store, b.store];
    const results = (await Promise.all(Array.from({ length: 100 }, (_, i) => stores[i % 2]!.update("r1", 0, bumped(run, { endReason: `writer ${i}` }))))).map((r) => r.ok);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await a.store.get("r1"))?.run.endReason).toBe(`writer ${results.indexOf(true)}`);
  });

  it("sends a definition it saw stored once, and again when it is gone from Redis, so every run it admits is readable", async () => {
    const [a, b, prefix] = await twoProcesses();
    await a.store.admit(storedRun("r1"), admitNow);
    await a.store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    const definitions = await keysMatching(admin, `${keyPrefix(prefix)}:def:*`);
    expect(definitions).toHaveLength(1);
    // A flush (or anyone) took the definition away: the next admission must bring it back.
    await admin.del(...definitions);
    await a.store.admit(storedRun("r3", { queuedAt: 3_000 }), admitNow);
    // Read by another process, which never cached it.
    expect((await b.store.get("r3"))?.definition).toEqual(storedRun("r3").definition);
    expect((await b.store.get("r1"))?.definition).toEqual(storedRun("r1").definition);
  });

  it("admits exactly one of 50 runs under a cooldown when they come from two processes", async () => {
    const [a, b] = await twoProcesses();
    const stores = [a.store, b.store];
    const opts = { cooldownSecs: 60, force: false, now: 1_000 };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => stores[i % 2]!.admit(storedRun(`r${i}`), opts)));
    expect(results.filter((r) => r.accepted)).toHaveLength(1);
  });

  it("hands out no more slots than max_concurrent across processes", async () => {
    const [a, b] = await twoProcesses();
    const ids = Array.from({ length: 20 }, (_, i) => `r${String(i).padStart(2, "0")}`);
    for (const id of ids) await a.store.admit(storedRun(id, { maxConcurrent: 3 }), admitNow);
    const started = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const queued = ids.filter((id) => !started.has(id));
      const results = await Promise.all(queued.map((id, i) => startRun((i % 2 === 0 ? a : b).store, id)));
      queued.forEach((id, i) => results[i] && started.add(id));
    }
    expect([...started].sort()).toEqual(["r00", "r01", "r02"]);
  });

  it("runs a job enqueued by one process in another process's worker, and drops a copy another process enqueued meanwhile", async () => {
    const [a, b] = await twoProcesses();
    const seen: string[] = [];
    await a.queue.enqueue({ kind: "advance", runId: "r1" }, { priority: "high", id: "r1-advance-0" });
    await b.queue.enqueue({ kind: "advance", runId: "r1" }, { priority: "high", id: "r1-advance-0" });
    await a.queue.enqueue({ kind: "advance", runId: "sentinel" }, { priority: "low" });
    b.queue.process(async (job) => void seen.push(job.runId), 2);
    await until("the sentinel ran", () => seen.includes("sentinel"));
    expect(seen).toEqual(["r1", "sentinel"]);
  });

  it("keeps deployments with different prefixes apart", async () => {
    const [a] = await twoProcesses();
    const [other] = await twoProcesses();
    const heard: RunEvent[] = [];
    other.events.subscribe((e) => heard.push(e));
    await a.store.admit(storedRun("r1"), { cooldownSecs: 60, force: false, now: 1_000 });
    await a.events.publish(ev("r1"));
    expect(await other.store.get("r1")).toBeUndefined();
    expect(await other.store.list()).toEqual([]);
    expect((await other.store.admit(storedRun("r2"), { cooldownSecs: 60, force: false, now: 1_000 })).accepted).toBe(true);
    await other.events.publish(ev("r2"));
    expect(heard.map((e) => e.runId)).toEqual(["r2"]);
  });

  it("keeps every key under the prefix in a hash tag and stores a definition once for all the runs that pinned it", async () => {
    const [a, , bare] = await twoProcesses();
    const prefix = `{${bare}}`;
    for (const id of ["r1", "r2", "r3"]) await a.store.admit(storedRun(id), admitNow);
    await a.queue.enqueue({ kind: "advance", runId: "r1" }, { priority: "medium", delayMs: 60_000 });
    const keys = await scan(`${prefix}:*`);
    expect(keys.filter((k) => k.startsWith(`${prefix}:def:`))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith(`${prefix}:run:`)).sort()).toEqual(["r1", "r2", "r3"].map((id) => `${prefix}:run:${id}`));
    expect(keys.some((k) => k.startsWith(`${prefix}:jobs:`))).toBe(true);
    expect((await scan(`bull:*`)).filter((k) => k.includes(bare))).toEqual([]);
    expect(await scan(`${bare}*`)).toEqual([]);
  });

  it("goes on after Redis forgot its scripts", async () => {
    const [a] = await twoProcesses();
    await admin.script("FLUSH");
    expect(await a.store.admit(storedRun("r1"), admitNow)).toEqual({ accepted: true });
    expect(await startRun(a.store, "r1")).toBe(true);
  });

  it("reconnects when its connections are dropped, and reports the trouble at most once", async () => {
    const errors: string[] = [];
    const prefix = `${filePrefix}-${++n}`;
    const a = await open(prefix, { onError: (_error, where) => errors.push(where) });
    const seen: string[] = [];
    a.queue.process(async (job) => void seen.push(job.runId), 1);
    await a.store.admit(storedRun("r1"), admitNow);
    // Commands, events, and the worker's blocking connection.
    const ids = await until("the worker connected", async () => ((await clientIds(prefix)).length === 3 ? clientIds(prefix) : undefined));
    for (const id of ids) await admin.client("KILL", "ID", id);
    expect((await a.store.get("r1"))?.run.id).toBe("r1");
    await a.queue.enqueue({ kind: "advance", runId: "r1" }, { priority: "medium" });
    await until("the job ran after the reconnect", () => seen.includes("r1"));
    expect(errors.length).toBeLessThanOrEqual(1);
  });

  it("closes every connection it opened", async () => {
    const [a, , prefix] = await twoProcesses();
    a.queue.process(async () => undefined, 1);
    await until("the worker connected", async () => (await clientIds(prefix)).length >= 5);
    await Promise.all(opened.splice(0).map((d) => d.close()));
    await until("every connection is gone", async () => (await clientIds(prefix)).length === 0);
  });

  it("hands the job of a worker killed mid-job to another worker once its lock runs out", async () => {
    const prefix = `${filePrefix}-${++n}`;
    const settings = { lockDurationMs: 1_000, stalledIntervalMs: 500 };
    const driverModule = new URL("../../src/drivers/redis/index.ts", import.meta.url).href;
    // A worker in a process of its own that takes the job and never finishes it.
    const code = `
      const { openRedisDriver } = await import(${JSON.stringify(driverModule)});
      const driver = await openRedisDriver({ url: ${JSON.stringify(redisUrl)}, prefix: ${JSON.stringify(prefix)}, ...${JSON.stringify(settings)} });
      driver.queue.process(async (job) => { console.log("took " + job.runId); await new Promise(() => {}); }, 1);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const a = await open(prefix, settings);
    await a.queue.enqueue({ kind: "advance", runId: "r1" }, { priority: "medium", id: "r1-advance-3" });
    try {
      await until("the doomed worker took the job", () => out.includes("took r1"));
    } finally {
      child.kill("SIGKILL");
    }
    const seen: string[] = [];
    a.queue.process(async (job) => void seen.push(job.runId), 1);
    await until("another worker took the job over", () => seen.includes("r1"), 15_000);
    expect(seen).toEqual(["r1"]);
  });

  it("refuses to open when no Redis answers, naming the URL without its password, and reports it once", async () => {
    const errors: unknown[] = [];
    const started = openRedisDriver({ url: "redis://:hunter2@127.0.0.1:1", connectTimeoutMs: 500, onError: (error) => errors.push(error) });
    await expect(started).rejects.toThrow(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(errors).toHaveLength(1);
  });

  const scan = (pattern: string): Promise<string[]> => keysMatching(admin, pattern);

  /** Ids of the connections a driver on `prefix` holds (each is named after its key prefix, `{prefix}`). */
  async function clientIds(prefix: string): Promise<string[]> {
    const list = (await admin.client("LIST")) as string;
    return list.split("\n").filter((line) => line.includes(` name=${keyPrefix(prefix)}:`)).map((line) => /id=(\d+)/.exec(line)![1]!);
  }
});
}

function ev(runId: string): RunEvent {
  return { type: "run_started", runId, sop: "deploy", at: 1_000 };
}
