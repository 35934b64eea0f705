import type { Driver } from "../../ports/driver.ts";
import { BullmqQueue } from "./bullmq-queue.ts";
import { connectDeployment, OutageReporter, type RedisClient } from "./redis-connection.ts";
import { RedisEventBus } from "./redis-event-bus.ts";
import { DEFAULT_PREFIX, redisKeys } from "./redis-keys.ts";
import { RedisMessageLedger } from "./redis-message-ledger.ts";
import { RedisRunStore } from "./redis-run-store.ts";

export { BullmqQueue, type BullmqQueueOptions } from "./bullmq-queue.ts";
export { isConnectionError, redactUrl, type RedisClient } from "./redis-connection.ts";
export { RedisEventBus, type RedisEventBusOptions } from "./redis-event-bus.ts";
export { DEFAULT_PREFIX, redisKeys, type RedisKeys } from "./redis-keys.ts";
export { RedisRunStore, type RedisRunStoreOptions } from "./redis-run-store.ts";

export interface RedisDriverOptions {
  url: string;
  /** Key prefix of the deployment (`SOP_REDIS_PREFIX`); default `sop`. BullMQ's prefix too. */
  prefix?: string;
  /** BullMQ `lockDuration`: after this long without a heartbeat a running job counts as stalled. */
  lockDurationMs?: number;
  /** BullMQ `stalledInterval`: how often workers look for jobs of a dead worker. */
  stalledIntervalMs?: number;
  /** How long opening waits for Redis to answer at first; default 10 s. Later outages are waited out. */
  connectTimeoutMs?: number;
  /** Receives queue handler, subscriber and connection errors (connection errors once per outage), with where. */
  onError?: (error: unknown, where: string) => void;
  /** For a process that only looks (`sop status`): nothing is written by opening the driver. */
  readOnly?: boolean;
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
 * Redis Cluster (INFO says `cluster_enabled:1`) each is a Cluster client.
 */
export async function openRedisDriver(opts: RedisDriverOptions): Promise<RedisDriver> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const keys = redisKeys(prefix);
  const onError = opts.onError ?? reportToStderr;
  const outage = new OutageReporter(onError);
  const { mode, clients: connections } = await connectDeployment({
    url: opts.url, names: [`${prefix}:commands`, `${prefix}:events`], outage, timeoutMs: opts.connectTimeoutMs ?? 10_000,
  });
  const [commands, subscriber] = connections as [RedisClient, RedisClient];
  let events: RedisEventBus;
  try {
    events = await RedisEventBus.open({
      publisher: commands,
      subscriber,
      channel: keys.events,
      onError: (error, event) => outage.report(error, event === undefined ? `event channel ${keys.events}` : `subscriber of ${event.type} of run ${event.runId}`),
    });
  } catch (error) {
    for (const c of connections) c.disconnect();
    throw error;
  }
  const store = new RedisRunStore(commands, { prefix });
  const queue = new BullmqQueue({
    connection: commands,
    prefix,
    name: keys.queueName,
    ...(opts.lockDurationMs === undefined ? {} : { lockDurationMs: opts.lockDurationMs }),
    ...(opts.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: opts.stalledIntervalMs }),
    onError: (error, job) => outage.report(error, job === undefined ? `BullMQ queue ${prefix}:${keys.queueName}` : `queue job ${job.kind} of run ${job.runId}`),
    ...(opts.readOnly ? { readOnly: true } : {}),
  });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await queue.close();
      await events.close();
      await store.close();
    } finally {
      await Promise.all(connections.map((c) => quit(c)));
    }
  };
  return { store, queue, events, mode, ledger: new RedisMessageLedger(commands, prefix), close: () => (closing ??= close()) };
}

/**
 * The store alone, on a connection of its own: for a command that only reads (`sop audit verify`
 * reading the chain heads), with no queue, no worker and no subscription.
 */
export async function openRedisStore(opts: { url: string; prefix?: string; connectTimeoutMs?: number }): Promise<{ store: RedisRunStore; close(): Promise<void> }> {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const outage = new OutageReporter(() => undefined);
  const { clients } = await connectDeployment({ url: opts.url, names: [`${prefix}:reader`], outage, timeoutMs: opts.connectTimeoutMs ?? 10_000 });
  const [connection] = clients as [RedisClient];
  const store = new RedisRunStore(connection, { prefix });
  return { store, close: async () => { await store.close(); await quit(connection); } };
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
