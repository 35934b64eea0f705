/**
 * Redis for the benchmarks: `REDIS_URL` (default redis://127.0.0.1:6379) when it answers, else
 * none (run.ts then skips every Redis benchmark with one line). Each benchmark works under a
 * prefix of its own, `sop-bench-<label>-<random>`, and deletes its keys afterwards; run.ts sweeps
 * whatever a stalled one left, and `sop worker` processes spawned here die with this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { keyPrefix } from "../src/drivers/redis/redis-keys.ts";
import { answersPing, deleteKeys as deleteTestKeys } from "../test/helpers/redis.ts";

export const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";

let probed: Promise<boolean> | undefined;

/** Whether Redis answers PING at REDIS_URL (asked once per process). */
export function redisAnswers(): Promise<boolean> {
  return (probed ??= answersPing(REDIS_URL));
}


/** A plain command connection (BullMQ's rule for workers: `maxRetriesPerRequest: null`). */
export function connect(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Round trips to Redis (PING, one at a time), ms: the unit every store operation pays. */
export async function pingLatencies(count: number): Promise<number[]> {
  const redis = connect();
  try {
    for (let i = 0; i < 50; i++) await redis.ping();
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await redis.ping();
      samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    redis.disconnect();
  }
}

const livePrefixes = new Set<string>();

/** A fresh key prefix, `sop-bench-<label>-<random>`; `release` deletes every key under it. */
export function openPrefix(label: string): { prefix: string; release: () => Promise<void> } {
  const prefix = `sop-bench-${label}-${randomBytes(4).toString("hex")}`;
  livePrefixes.add(prefix);
  return {
    prefix,
    release: async () => {
      await deleteKeys(prefix);
      livePrefixes.delete(prefix);
    },
  };
}

/**
 * Runs `fn` with a fresh key prefix and deletes every key under it afterwards, also when `fn`
 * throws. A benchmark that stalls never gets here; run.ts calls `sweepRedis` at the end for it.
 */
export async function withPrefix<T>(label: string, fn: (prefix: string) => Promise<T>): Promise<T> {
  const { prefix, release } = openPrefix(label);
  try {
    return await fn(prefix);
  } finally {
    await release();
  }
}

/** Deletes the keys of prefixes whose benchmark never finished (stalled). */
export async function sweepRedis(): Promise<void> {
  for (const prefix of livePrefixes) await deleteKeys(prefix).catch(() => undefined);
  livePrefixes.clear();
}

/** Deletes every key of the deployment on `prefix` (ours and BullMQ's, which share its key prefix `{prefix}`). */
export function deleteKeys(prefix: string): Promise<number> {
  return deleteTestKeys(REDIS_URL, prefix);
}

/** Sum of `MEMORY USAGE` over the keys of the deployment on `prefix` (under `{prefix}:`) and how many there are. */
export async function prefixMemory(redis: Redis, prefix: string): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${keyPrefix(prefix)}:*`, "COUNT", 1000);
    cursor = next;
    const sizes = redis.pipeline();
    for (const key of batch) sizes.memory("USAGE", key, "SAMPLES", "0");
    for (const [error, reply] of (await sizes.exec()) ?? []) {
      if (error) throw error;
      bytes += Number(reply ?? 0);
      keys++;
    }
  } while (cursor !== "0");
  return { bytes, keys };
}

/** One section of `INFO`, as numbers where the value is one. */
export async function info(redis: Redis, section: "memory" | "cpu" | "stats"): Promise<Record<string, number>> {
  const fields: Record<string, number> = {};
  for (const line of (await redis.info(section)).split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return fields;
}

/**
 * Commands Redis executed so far, all clients together (`INFO commandstats`): a script counts
 * as its EVALSHA and each command it runs inside. Other users of the same Redis count too.
 */
export async function commandCalls(redis: Redis): Promise<number> {
  let calls = 0;
  for (const match of (await redis.info("commandstats")).matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

let sent = 0;
let counting = false;

/**
 * Commands this process sent to Redis so far, over every ioredis connection (BullMQ's included;
 * a script counts once, a MULTI as MULTI, its commands and EXEC). Unlike `commandCalls`, other
 * users of the same Redis do not count. Counting starts at the first call.
 */
export function sentCommands(): number {
  if (!counting) {
    counting = true;
    const proto = Redis.prototype;
    // Taken as a plain function value: it is called back with the connection as `this`.
    const send = Object.getOwnPropertyDescriptor(proto, "sendCommand")?.value as (...args: Parameters<Redis["sendCommand"]>) => ReturnType<Redis["sendCommand"]>;
    proto.sendCommand = function (this: Redis, ...args: Parameters<Redis["sendCommand"]>) {
      sent++;
      return Reflect.apply(send, this, args);
    };
  }
  return sent;
}

/** Redis's own CPU seconds so far (user + system, main thread and others). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const cpu = await info(redis, "cpu");
  return (cpu["used_cpu_user"] ?? 0) + (cpu["used_cpu_sys"] ?? 0);
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

const SOP_BIN = new URL("../bin/sop.js", import.meta.url).pathname;

/**
 * Starts `sop worker` (as users do: `node bin/sop.js worker`) and resolves once it said it is
 * up, i.e. its BullMQ worker exists. Rejects when it exits first or stays silent for 30 s.
 */
export async function startSopWorker(env: Record<string, string>, cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SOP_BIN, "worker"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  const collect = (d: Buffer): void => {
    output += d.toString();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sop worker said nothing for 30 s: ${output}`)), 30_000);
      const check = (): void => {
        if (output.includes("sop worker:")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`sop worker exited (${signal ?? code}) before it was up: ${output}`));
      });
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return child;
}

/** SIGTERM (a worker finishes its running steps, then exits); SIGKILL after 10 s. */
export async function stopSopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Linux reports process times in USER_HZ ticks, 100 per second on every common platform. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, its waited-for children included) a process used so far, from /proc. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the ")" that ends the command name: utime is field 11 (0-based), then stime, cutime, cstime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** The machine's CPU seconds so far, busy and in all, summed over every core (first line of /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}
