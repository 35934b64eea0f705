/**
 * What only the Redis driver does with history: a deployment whose runs were stored before the
 * history indexes existed gets them indexed once, by the first process that pages or prunes.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RUN_STATUSES } from "../../src/core/run/run-state.ts";
import { openRedisDriver, redisKeys, type RedisDriver } from "../../src/drivers/redis/index.ts";
import { admitNow, endRun, storedRun } from "../contract/fixtures.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("Redis history indexes (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const prefix = testPrefix();
  const admin = url === undefined ? undefined : new Redis(url);
  afterAll(async () => {
    admin?.disconnect();
    await deleteKeys(url!, prefix);
  });

  const open = (): Promise<RedisDriver> => openRedisDriver({ url: url!, prefix, lockDurationMs: 5_000, stalledIntervalMs: 5_000 });

  it("indexes the runs an earlier version stored, once, and then pages and prunes them", async () => {
    let driver = await open();
    for (const [i, id] of ["a", "b", "c"].entries()) await driver.store.admit(storedRun(id, { queuedAt: 1_000 + i, maxConcurrent: 5 }), admitNow);
    await endRun(driver.store, "a");
    await driver.close();

    // What an earlier version left: the runs and their per-SOP indexes, no history indexes.
    const k = redisKeys(prefix);
    await admin!.del(k.runs, k.sopRuns("deploy"), k.ended, k.historyIndexed, ...RUN_STATUSES.map((s) => k.anyStatus(s)));
    for (const id of ["a", "b", "c"]) await admin!.hdel(k.run(id), "ix");

    driver = await open();
    try {
      expect((await driver.store.page({ limit: 10 })).runs.map((r) => r.id)).toEqual(["c", "b", "a"]);
      expect((await driver.store.page({ limit: 10, statuses: ["success"] })).runs.map((r) => r.id)).toEqual(["a"]);
      expect(await admin!.exists(k.historyIndexed)).toBe(1);
      expect(await driver.store.endedSince(0)).toEqual(["a"]);
      await driver.store.markAudited("deploy", 1);
      expect(await driver.store.prune({ endedBefore: 100_000, limit: 10 })).toEqual([{ runId: "a", sop: "deploy" }]);
      expect((await driver.store.page({ limit: 10 })).runs.map((r) => r.id)).toEqual(["c", "b"]);
    } finally {
      await driver.close();
    }
  });

  it("takes out of line what it can never prune (runs ended before seals, entries whose run is gone) instead of stalling behind them", async () => {
    const driver = await open();
    try {
      const k = redisKeys(prefix);
      for (const id of ["legacy", "old"]) await driver.store.admit(storedRun(id, { sop: "stall", maxConcurrent: 5 }), admitNow);
      await endRun(driver.store, "legacy");
      await endRun(driver.store, "old");
      await driver.store.markAudited("stall", 2);
      // An earlier version's run ended without a seal, and 30 entries whose runs were removed by hand, all first in line.
      await admin!.hdel(k.run("legacy"), "seal");
      await admin!.zadd(k.ended, 0, "legacy");
      for (let i = 0; i < 30; i++) await admin!.zadd(k.ended, 0, `gone-${i}`);
      expect(await driver.store.prune({ endedBefore: 100_000, limit: 1 })).toEqual([{ runId: "old", sop: "stall" }]);
      expect(await admin!.zrange(k.ended, "0", "-1")).not.toContain("legacy");
      expect((await driver.store.get("legacy"))?.run.status).toBe("success");
    } finally {
      await driver.close();
    }
  });
});
