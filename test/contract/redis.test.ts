/** The driver contracts against the Redis driver: Lua-scripted store, BullMQ queue, pub/sub bus. */
import { afterAll, describe, it } from "vitest";
import { openRedisDriver, type RedisDriver } from "../../src/drivers/redis/index.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { eventBusContract } from "./event-bus.contract.ts";
import { messageLedgerContract } from "./message-ledger.contract.ts";
import { runStoreContract } from "./run-store.contract.ts";
import { workQueueContract } from "./work-queue.contract.ts";

const url = await redisUrlForTests();

if (url === undefined) {
  describe.skip("Redis driver contracts", () => {
    it("need a Redis: see the REDIS SUITES SKIPPED line", () => undefined);
  });
} else {
  const prefix = testPrefix();
  afterAll(() => deleteKeys(url, prefix));

  // Reopening a name is opening a driver on the same key prefix.
  const open = (name: string, onError?: (error: unknown, where: string) => void): Promise<RedisDriver> =>
    openRedisDriver({
      url,
      prefix: `${prefix}-${name}`,
      lockDurationMs: 5_000,
      stalledIntervalMs: 5_000,
      ...(onError === undefined ? {} : { onError }),
    });

  runStoreContract("redis", async (name) => {
    const driver = await open(name);
    return { store: driver.store, close: () => driver.close() };
  });

  workQueueContract("redis", async (name, onError) => {
    const driver = await open(name, (error) => onError(error));
    return { queue: driver.queue, close: () => driver.close() };
  });

  eventBusContract("redis", async (name, onError) => {
    const driver = await open(name, (error) => onError(error));
    return { bus: driver.events, close: () => driver.close(), shared: true };
  });

  messageLedgerContract("redis", async () => {
    const driver = await open("ledger");
    return { ledger: driver.ledger, close: () => driver.close() };
  });
}
