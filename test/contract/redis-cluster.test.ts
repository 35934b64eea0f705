/**
 * The driver contracts against the Redis driver on a Redis Cluster of three masters: every Lua
 * script, pipeline and MGET of the store, BullMQ and pub/sub, with each deployment's keys in the
 * hash slot of its prefix (different prefixes land on different masters).
 */
import { afterAll, describe, expect, it } from "vitest";
import { openRedisDriver, type RedisDriver } from "../../src/drivers/redis/index.ts";
import { hasRedisCluster, LocalRedisCluster } from "../helpers/local-redis-cluster.ts";
import { testPrefix } from "../helpers/redis.ts";
import { eventBusContract } from "./event-bus.contract.ts";
import { messageLedgerContract } from "./message-ledger.contract.ts";
import { runStoreContract } from "./run-store.contract.ts";
import { workQueueContract } from "./work-queue.contract.ts";

const cluster = hasRedisCluster ? await LocalRedisCluster.start() : undefined;

if (cluster === undefined) {
  describe.skip("Redis Cluster driver contracts", () => {
    it("need redis-server and redis-cli on PATH", () => undefined);
  });
} else {
  const prefix = testPrefix();
  afterAll(() => cluster.stop());

  // Reopening a name is opening a driver on the same key prefix.
  const open = (name: string, onError?: (error: unknown, where: string) => void): Promise<RedisDriver> =>
    openRedisDriver({
      url: cluster.urlAwayFrom(`{${prefix}-${name}}`),
      prefix: `${prefix}-${name}`,
      lockDurationMs: 5_000,
      stalledIntervalMs: 5_000,
      ...(onError === undefined ? {} : { onError }),
    });

  describe("Redis driver on a cluster", () => {
    it("finds the cluster from one node's URL and opens Cluster clients", async () => {
      const notices: string[] = [];
      const driver = await openRedisDriver({ url: cluster.urlAwayFrom(`{${prefix}-mode}`), prefix: `${prefix}-mode`, onNotice: (m) => notices.push(m) });
      try {
        expect(driver.mode).toBe("cluster");
        expect(notices).toEqual([`Redis: a cluster; every key of this deployment is under {${prefix}-mode}: (one hash slot)`]);
      } finally {
        await driver.close();
      }
    });
  });

  runStoreContract("redis cluster", async (name) => {
    const driver = await open(name);
    return { store: driver.store, close: () => driver.close() };
  });

  workQueueContract("redis cluster", async (name, onError) => {
    const driver = await open(name, (error) => onError(error));
    return { queue: driver.queue, close: () => driver.close() };
  });

  eventBusContract("redis cluster", async (name, onError) => {
    const driver = await open(name, (error) => onError(error));
    return { bus: driver.events, close: () => driver.close() };
  });

  messageLedgerContract("redis cluster", async () => {
    const driver = await open("ledger");
    return { ledger: driver.ledger, close: () => driver.close() };
  });
}
