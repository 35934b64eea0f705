import type { Driver } from "../../ports/driver.ts";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { BullmqQueue } from "./bullmq-queue.ts";
import { moveLegacyKeys } from "./move-legacy-keys.ts";
import { connectDeployment, OutageReporter, type RedisClient } from "./redis-connection.ts";
import { RedisEventBus } from "./redis-event-bus.ts";
import { DEFAULT_PREFIX, legacyPrefix, redisKeys, type RedisKeys } from "./redis-keys.ts";
import { RedisMessageLedger } from "./redis-message-ledger.ts";
import { RedisRunStore } from "./redis-run-store.ts";

export { BullmqQueue, type BullmqQueueOptions } from "./bullmq-queue.ts";
export { isConnectionError, redactUrl, type RedisClient } from "./redis-connection.ts";
export { RedisEventBus, type RedisEventBusOptions } from "./redis-event-bus.ts";
export { DEFAULT_PREFIX, keyPrefix, prefixProblem, redisKeys, type RedisKeys } from "./redis-keys.ts";
export { RedisRunStore, type RedisRunStoreOptions } from "./redis-run-store.ts";

export interface RedisDriverOptions {
  url: string;
  /** The deployment's `SOP_REDIS_PREFIX`; default `sop`. Its keys, BullMQ's included, are under `keyPrefix(prefix)`, e.g. `{sop}`. */
  prefix?: string;
  /** BullMQ `lockDuration`: after this long without a heartbeat a running job counts as stalled. */
  lockDurationMs?: number;
  /** BullMQ `stalledInterval`: how often workers look for jobs of a dead worker. */
  stalledIntervalMs?: number;
  /** How long opening waits for Redis to answer at first; default 10 s. Later outages are waited out. */
  connectTimeoutMs?: number;
  /** Receives queue handler, subscriber and connection errors (connection errors once per outage), with where. */
  onError?: (error: unknown, where: string) => void;
  /**
   * Told what opening found worth a line: cluster mode (`info`); keys moved from an earlier
   * version's names, or a wait for another process moving them (`warn`: a change to the data).
   */
  onNotice?: (message: string, level: "info" | "warn") => void;
  /** For a process that only looks (`sop status`): nothing is written by opening the driver. */
  readOnly?: boolean;
  /** Who this process is, for the lock of a key move others may wait for; default a description of the process. */
  owner?: string;
}

export interface RedisDriver extends Driver {
  store: RedisRunStore;
  queue: BullmqQueue;
  events: RedisEventBus;
  /** What the first connection found: a standalone server (or a proxy), or a Redis Cluster. */
  mode: "standalone" | "cluster";
}

/**
 * The distributed driver: runs, slots and cooldowns in Redis, work through BullMQ, events over
 * pub/sub. Two connections of its own (commands: store, publishing and the queue; and the
 * subscriber), plus the blocking one BullMQ's worker duplicates when `process` is called. On a
 * Redis Cluster (INFO says `cluster_enabled:1`) each is a Cluster client; every key of the
 * deployment is in one hash slot, so nothing else changes.
 */
export async function openRedisDriver(opts: RedisDriverOptions): Promise<RedisDriver> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const keys = redisKeys(prefix);
  const onError = opts.onError ?? reportToStderr;
  const outage = new OutageReporter(onError);
  const { mode, clients } = await connectDeployment({
    url: opts.url, names: [`${keys.prefix}:commands`, `${keys.prefix}:events`], outage, timeoutMs: opts.connectTimeoutMs ?? 10_000,
  });
  const [commands, subscriber] = clients as [RedisClient, RedisClient];
  let events: RedisEventBus;
  try {
    await arrange(commands, mode, prefix, keys, opts);
    events = await RedisEventBus.open({
      publisher: commands,
      subscriber,
      channel: keys.events,
      onError: (error, event) => outage.report(error, event === undefined ? `event channel ${keys.events}` : `subscriber of ${event.type} of run ${event.runId}`),
    });
  } catch (error) {
    for (const c of clients) c.disconnect();
    throw error;
  }
  const store = new RedisRunStore(commands, { prefix });
  const queue = new BullmqQueue({
    connection: commands,
    prefix: keys.prefix,
    name: keys.queueName,
    ...(opts.lockDurationMs === undefined ? {} : { lockDurationMs: opts.lockDurationMs }),
    ...(opts.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: opts.stalledIntervalMs }),
    onError: (error, job) => outage.report(error, job === undefined ? `BullMQ queue ${keys.prefix}:${keys.queueName}` : `queue job ${job.kind} of run ${job.runId}`),
    ...(opts.readOnly ? { readOnly: true } : {}),
  });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await queue.close();
      await events.close();
      await store.close();
    } finally {
      await Promise.all(clients.map((c) => quit(c)));
    }
  };
  return { store, queue, events, mode, ledger: new RedisMessageLedger(commands, keys), close: () => (closing ??= close()) };
}

/**
 * The store alone, on a connection of its own: for a command that only reads (`sop audit verify`
 * reading the chain heads), with no queue, no worker and no subscription.
 */
export async function openRedisStore(opts: { url: string; prefix?: string; connectTimeoutMs?: number }): Promise<{ store: RedisRunStore; close: () => Promise<void> }> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const keys = redisKeys(prefix);
  const outage = new OutageReporter(() => undefined);
  const { mode, clients } = await connectDeployment({ url: opts.url, names: [`${keys.prefix}:reader`], outage, timeoutMs: opts.connectTimeoutMs ?? 10_000 });
  const [connection] = clients as [RedisClient];
  try {
    await arrange(connection, mode, prefix, keys, { readOnly: true });
  } catch (error) {
    connection.disconnect();
    throw error;
  }
  const store = new RedisRunStore(connection, { prefix });
  return { store, close: async () => { await store.close(); await quit(connection); } };
}

/**
 * What opening does before anything reads or writes: on a standalone server, the one-time move
 * of an earlier version's keys (which had no hash tag), or, read-only, a refusal while they wait
 * to be moved. A Redis Cluster never held that layout: its scripts spanned slots.
 */
async function arrange(
  commands: RedisClient, mode: "standalone" | "cluster", prefix: string, keys: RedisKeys,
  opts: { readOnly?: boolean; onNotice?: (message: string, level: "info" | "warn") => void; owner?: string },
): Promise<void> {
  const notice = opts.onNotice ?? (() => undefined);
  if (mode === "cluster") notice(`Redis: a cluster; every key of this deployment is under ${keys.prefix}: (one hash slot)`, "info");
  const legacy = legacyPrefix(prefix);
  if (mode !== "standalone" || legacy === undefined) return;
  const moved = await moveLegacyKeys(commands as Redis, {
    legacy, keys, owner: opts.owner ?? `${hostname()}:${process.pid}`, readOnly: opts.readOnly === true,
    onWait: (holder) => notice(`Redis: waiting for ${holder}, which moves this deployment's keys from ${legacy}:* to ${keys.prefix}:*`, "warn"),
  });
  if (moved !== undefined) notice(`Redis: moved ${moved.moved} keys of this deployment from ${moved.from} to ${moved.to} (keys now carry a hash tag, so the same data also works on a Redis Cluster); a one-time move`, "warn");
}

/** QUIT when connected (pending replies arrive first); just drop the socket otherwise. */
async function quit(redis: RedisClient): Promise<void> {
  if (redis.status === "ready") {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}

function reportToStderr(error: unknown, where: string): void {
  console.error(`sop-runner: ${where}:`, error);
}
