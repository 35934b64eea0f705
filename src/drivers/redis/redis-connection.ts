import { Redis } from "ioredis";

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
    connectionName: opts.name.replace(/[^A-Za-z0-9_.:-]/g, "_"),
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  redis.on("error", (error: unknown) => opts.outage.report(error, `Redis connection ${opts.name} to ${redactUrl(opts.url)}`));
  redis.on("ready", () => opts.outage.recovered());
  return redis;
}

/** Resolves once the connection is ready; rejects after `timeoutMs` (the connection keeps trying). */
export async function waitReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
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
