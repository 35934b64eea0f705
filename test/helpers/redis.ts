/**
 * Redis for tests: `REDIS_URL` (default redis://127.0.0.1:6379) when it answers, else a
 * `redis-server` from PATH on a free port, else nothing (suites skip with one loud line, or
 * fail when REQUIRE_REDIS=1). Each test file works under its own key prefix and deletes it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";
import { until } from "./until.ts";

let found: Promise<string | undefined> | undefined;

/** The URL of a Redis the tests may use, or undefined when there is none (see the file comment). */
export function redisUrlForTests(): Promise<string | undefined> {
  return (found ??= findRedis());
}

/** A prefix no other test file uses: `sop-test-<random>`. Derive per-test prefixes from it with `-<name>`. */
export function testPrefix(): string {
  return `sop-test-${randomBytes(6).toString("hex")}`;
}

/**
 * Deletes every key of the deployments whose SOP_REDIS_PREFIX starts with `prefix` (ours and
 * BullMQ's, which share it): the keys under `{prefix…}` (the hash-tagged names), and under the
 * bare `prefix…` (an earlier version's names, which a test may write).
 */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    for (const pattern of [`{${prefix}*`, `${prefix}*`]) {
      const keys = await keysMatching(redis, pattern);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Every key matching `pattern` (SCAN, so a big database is not blocked). */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

async function findRedis(): Promise<string | undefined> {
  const url = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
  if (await answersPing(url)) return url;
  const started = await startRedisServer();
  if (started !== undefined) return started;
  const why = `no Redis answers at ${url} and there is no redis-server on PATH`;
  if (process.env["REQUIRE_REDIS"] === "1") throw new Error(`REQUIRE_REDIS=1, but ${why}`);
  warnOncePerRun(`REDIS SUITES SKIPPED: ${why}. Set REDIS_URL or install redis-server; REQUIRE_REDIS=1 makes this a failure.`);
  return undefined;
}

/**
 * Each test file runs in its own fork of one vitest process (pool "forks"), so a marker named
 * after that parent (pid and start time, against pid reuse) lets the first file say it alone.
 */
function warnOncePerRun(message: string): void {
  let parentStart = "";
  try {
    parentStart = readFileSync(`/proc/${process.ppid}/stat`, "utf8").split(") ")[1]?.split(" ")[19] ?? "";
  } catch {
    // No /proc: every file says it, which is louder, not wrong.
  }
  if (parentStart !== "") {
    try {
      writeFileSync(join(tmpdir(), `sop-redis-skipped-${process.ppid}-${parentStart}`), "", { flag: "wx" });
    } catch {
      return; // another file of this run said it
    }
  }
  console.warn(message);
}

/** Whether a Redis answers PING at `url` within a second. */
export async function answersPing(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Starts a throwaway redis-server (no persistence) that dies with this process. */
async function startRedisServer(): Promise<string | undefined> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sop-test-redis-"));
  let child: ChildProcess;
  try {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined; // not on PATH
  }
  const stop = (): void => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stop);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      stop();
      process.kill(process.pid, signal);
    });
  }
  const url = `redis://127.0.0.1:${port}`;
  try {
    return await until(`the redis-server started on port ${port} to answer PING`, async () => (await answersPing(url)) && url, 5_000);
  } catch (err) {
    stop();
    throw err;
  }
}
