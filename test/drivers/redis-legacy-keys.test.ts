/**
 * Deployments of earlier versions kept their keys under the bare prefix (`sop:run:<id>`); the
 * keys now carry a hash tag (`{sop}:run:<id>`). On a standalone server the first process to
 * start moves them, once, and refuses when that would not be safe.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openRedisDriver, openRedisStore, type RedisDriver } from "../../src/drivers/redis/index.ts";
import { admitNow, endRun, startRun, storedRun } from "../contract/fixtures.ts";
import { deleteKeys, keysMatching, redisUrlForTests, testPrefix } from "../helpers/redis.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("moving an earlier version's Redis keys (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const filePrefix = testPrefix();
  let n = 0;
  const admin = new Redis(url ?? "redis://127.0.0.1:1", { lazyConnect: url === undefined });
  const opened: RedisDriver[] = [];
  const others: Redis[] = [];

  const open = async (prefix: string, notices: string[] = []): Promise<RedisDriver> => {
    const driver = await openRedisDriver({ url: url!, prefix, onNotice: (m) => notices.push(m), lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
    opened.push(driver);
    return driver;
  };

  /** A deployment as an earlier version left it: its keys under `prefix:`, not `{prefix}:`. */
  const earlierDeployment = async (runs = 2): Promise<string> => {
    const prefix = `${filePrefix}-${++n}`;
    const driver = await openRedisDriver({ url: url!, prefix });
    for (let i = 1; i <= runs; i++) await driver.store.admit(storedRun(`r${i}`), admitNow);
    expect(await startRun(driver.store, "r1")).toBe(true);
    expect((await endRun(driver.store, "r1")).ok).toBe(true);
    expect(await driver.store.claim("r2", "worker-a", 60_000, Date.now())).toBe(true);
    await driver.queue.enqueue({ kind: "advance", runId: "r2" }, { priority: "medium", delayMs: 3_600_000, id: "r2-advance-0" });
    await driver.ledger.put("slack", "r2", { channels: {} });
    await driver.close();
    for (const key of await scan(`{${prefix}}:*`)) await admin.rename(key, prefix + key.slice(prefix.length + 2));
    return prefix;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    for (const c of others.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await deleteKeys(url!, filePrefix);
    admin.disconnect();
  });

  it("moves them to the tagged names at the first start, and the deployment goes on where it was", async () => {
    const prefix = await earlierDeployment();
    // Another deployment whose prefix starts with this one's keeps its keys.
    await admin.sadd(`${prefix}:staging:sops`, "x");
    await admin.set(`${prefix}:staging:run:r9`, "x");
    const before = await scan(`${prefix}:*`);
    const notices: string[] = [];
    const driver = await open(prefix, notices);

    expect(notices).toEqual([expect.stringMatching(new RegExp(`^Redis: moved ${before.length - 2} keys of this deployment from ${prefix}:\\* to \\{${prefix}\\}:\\*`))]);
    expect((await scan(`${prefix}:*`)).sort()).toEqual([`${prefix}:staging:run:r9`, `${prefix}:staging:sops`]);
    expect((await driver.store.get("r1"))?.seal).toMatchObject({ seq: 1 });
    expect(await driver.store.chainHead("deploy")).toMatchObject({ seq: 1 });
    expect((await driver.store.list()).map((r) => [r.id, r.status])).toEqual([["r1", "success"], ["r2", "queued"]]);
    expect((await driver.store.claims(["r2"])).get("r2")?.owner).toBe("worker-a");
    expect(await admin.pttl(`{${prefix}}:claim:r2`)).toBeGreaterThan(0);
    expect(await driver.ledger.get("slack", "r2")).toEqual({ channels: {} });
    expect(await driver.queue.bullQueue().getDelayedCount()).toBe(1);

    const again: string[] = [];
    await open(prefix, again);
    expect(again).toEqual([]);
  });

  it("moves them once when several processes start at once", async () => {
    const prefix = await earlierDeployment(40);
    const notices: string[] = [];
    const drivers = await Promise.all([open(prefix, notices), open(prefix, notices), open(prefix, notices)]);
    expect(notices.filter((m) => m.startsWith("Redis: moved"))).toHaveLength(1);
    expect(await scan(`${prefix}:*`)).toEqual([]);
    for (const d of drivers) expect(await d.store.list()).toHaveLength(40);
  });

  it("finishes a move that was cut short", async () => {
    const prefix = await earlierDeployment();
    // A mover died half-way through the keys it moves last, its lock expired; the record of its move stays.
    for (const key of [`run:r1`, "chains"]) await admin.rename(`${prefix}:${key}`, `{${prefix}}:${key}`);
    await admin.set(`{${prefix}}:migration`, prefix);
    const driver = await open(prefix);
    expect(await scan(`${prefix}:*`)).toEqual([]);
    expect(await admin.exists(`{${prefix}}:migration`)).toBe(0);
    expect((await driver.store.get("r1"))?.seal).toMatchObject({ seq: 1 });
    expect(await driver.store.list()).toHaveLength(2);
  });

  it("refuses to start while a process of the earlier version is connected, naming it, and moves nothing", async () => {
    const prefix = await earlierDeployment();
    const before = (await scan(`${prefix}:*`)).sort();
    const earlier = new Redis(url!, { connectionName: `${prefix}:commands` });
    others.push(earlier);
    await earlier.ping();
    await expect(open(prefix)).rejects.toThrow(new RegExp(`processes of an earlier sop-runner version are still connected to this deployment \\(${prefix}:commands from 127\\.0\\.0\\.1:\\d+\\)`));
    expect((await scan(`${prefix}:*`)).sort()).toEqual(before);
  });

  it("refuses when both the earlier names and the tagged ones hold data, and moves nothing", async () => {
    const prefix = await earlierDeployment();
    await admin.sadd(`{${prefix}}:sops`, "deploy");
    const before = (await scan(`${prefix}:*`)).sort();
    await expect(open(prefix)).rejects.toThrow(/has Redis keys under both .* \(an earlier version\) and .* \(this version\), so nothing was moved/);
    expect((await scan(`${prefix}:*`)).sort()).toEqual(before);
  });

  it("tells a command that only reads to start a process that moves them first", async () => {
    const prefix = await earlierDeployment();
    await expect(openRedisStore({ url: url!, prefix })).rejects.toThrow(/still have the names of an earlier version .*; start `sop serve` or `sop worker` once/);
    await expect(openRedisDriver({ url: url!, prefix, readOnly: true })).rejects.toThrow(/names of an earlier version/);
  });

  const scan = (pattern: string): Promise<string[]> => keysMatching(admin, pattern);
});
