import { Cluster, Redis, type DNSLookupFunction } from "ioredis";

/** A connection to a standalone Redis (or a proxy in front of shards), or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "EAI_AGAIN"]);

/** True for the errors a connection raises while Redis is unreachable (as opposed to a bad command). */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return (typeof code === "string" && CONNECTION_CODES.has(code)) || /Connection is closed|connect ETIMEDOUT|Stream isn't writeable/i.test(error.message);
}

/**
 * Reports connection errors once per outage: the first one is passed on, the retries that follow
 * are not, until one of our connections is ready again. Other errors always pass.
 */
export class OutageReporter {
  private down = false;

  constructor(private readonly onError: (error: unknown, where: string) => void) {}

  report(error: unknown, where: string): void {
    if (isConnectionError(error)) {
      if (this.down) return;
      this.down = true;
      where = `${where} (Redis unreachable; retrying until it answers, further connection errors are not logged)`;
    }
    try {
      this.onError(error, where);
    } catch {
      // onError is the last stop for errors; a failing one must not take a connection down.
    }
  }

  recovered(): void {
    this.down = false;
  }
}

export interface ConnectOptions {
  url: string;
  /** Shown in CLIENT LIST and in error reports, e.g. `sop:store`. */
  name: string;
  outage: OutageReporter;
}

/**
 * A connection that reconnects forever with backoff (100 ms more per attempt, at most 2 s) and
 * whose commands wait through an outage instead of failing (`maxRetriesPerRequest: null`, which
 * BullMQ also requires of worker connections), so a Redis restart costs time, not runs.
 */
export function connectRedis(opts: ConnectOptions): Redis {
  const redis = new Redis(opts.url, {
    connectionName: connectionName(opts.name),
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  redis.on("error", (error: unknown) => opts.outage.report(error, `Redis connection ${opts.name} to ${redactUrl(opts.url)}`));
  redis.on("ready", () => opts.outage.recovered());
  return redis;
}

/**
 * A Redis Cluster client seeded with the node REDIS_URL names (it finds the others and follows
 * the slots as they move), with the same patience as `connectRedis`: the cluster is reconnected
 * forever and commands wait through a failover.
 */
function connectCluster(opts: ConnectOptions): Cluster {
  const { node, redisOptions } = clusterSeed(opts.url);
  // With TLS the nodes' certificates name hosts, not addresses: keep the names as given.
  const dnsLookup: DNSLookupFunction = (address, callback) => callback(null, address);
  const cluster = new Cluster([node], {
    clusterRetryStrategy: (times) => Math.min(times * 100, 2_000),
    redisOptions: { ...redisOptions, connectionName: connectionName(opts.name), maxRetriesPerRequest: null },
    ...(redisOptions.tls ? { dnsLookup } : {}),
  });
  const where = `Redis Cluster connection ${opts.name} via ${redactUrl(opts.url)}`;
  cluster.on("error", (error: unknown) => opts.outage.report(error, where));
  cluster.on("node error", (error: unknown, node: unknown) => opts.outage.report(error, `${where} (node ${String(node)})`));
  cluster.on("ready", () => opts.outage.recovered());
  return cluster;
}

/** Whether the server behind `redis` runs in cluster mode (INFO's `cluster_enabled:1`). */
async function isClusterNode(redis: Redis): Promise<boolean> {
  return /^cluster_enabled:1\s*$/m.test(await redis.info("cluster"));
}

export interface Connections {
  mode: "standalone" | "cluster";
  /** One per name, in the order given. */
  clients: RedisClient[];
}

/**
 * The connections of one process, one per name: plain ones on a standalone server, Cluster
 * clients when the first connection finds the server in cluster mode (and is dropped). Resolves
 * once all are ready; on failure closes what it opened.
 */
export async function connectDeployment(opts: { url: string; names: readonly string[]; outage: OutageReporter; timeoutMs: number }): Promise<Connections> {
  const [first, ...rest] = opts.names;
  if (first === undefined) throw new RangeError("connectDeployment needs at least one connection name");
  const probe = connectRedis({ url: opts.url, name: first, outage: opts.outage });
  let cluster: boolean;
  try {
    await waitReady(probe, opts.url, opts.timeoutMs);
    cluster = await isClusterNode(probe);
  } catch (error) {
    probe.disconnect();
    throw error;
  }
  let clients: RedisClient[];
  if (cluster) {
    probe.disconnect();
    clients = opts.names.map((name) => connectCluster({ url: opts.url, name, outage: opts.outage }));
  } else {
    clients = [probe, ...rest.map((name) => connectRedis({ url: opts.url, name, outage: opts.outage }))];
  }
  try {
    await Promise.all(clients.map((c) => waitReady(c, opts.url, opts.timeoutMs)));
  } catch (error) {
    for (const c of clients) c.disconnect();
    throw cluster ? new Error(`${(error as Error).message} (it is a Redis Cluster: every master must answer and CLUSTER INFO say cluster_state:ok)`) : error;
  }
  return { mode: cluster ? "cluster" : "standalone", clients };
}

/** CLIENT SETNAME takes no spaces; the project keeps names to a plain set, braces of the hash tag included. */
export function connectionName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:{}-]/g, "_");
}

/** The node and the connection options a `redis://` or `rediss://` URL names, for a Cluster client. */
function clusterSeed(url: string): { node: { host: string; port: number }; redisOptions: { username?: string; password?: string; tls?: object } } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL ${redactUrl(url)} is not a URL; write redis://[user:password@]host:port`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new Error(`REDIS_URL ${redactUrl(url)}: a Redis Cluster is reached over redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && db !== "0") throw new Error(`REDIS_URL ${redactUrl(url)} names database ${db}, but a Redis Cluster has only database 0: drop /${db} from the URL`);
  const redisOptions: { username?: string; password?: string; tls?: object } = {};
  if (parsed.username !== "") redisOptions.username = decodeURIComponent(parsed.username);
  if (parsed.password !== "") redisOptions.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === "rediss:") redisOptions.tls = {};
  return { node: { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: parsed.port === "" ? 6379 : Number(parsed.port) }, redisOptions };
}

/** Resolves once the connection is ready; rejects after `timeoutMs` (the connection keeps trying). */
export async function waitReady(redis: RedisClient, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      redis.once("ready", onReady);
      timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redactUrl(url)} within ${timeoutMs} ms; is it running, and is REDIS_URL right?`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady !== undefined) redis.off("ready", onReady);
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable Redis URL)";
  }
}
