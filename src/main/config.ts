/**
 * Configuration from the environment (SPEC §6). The composition roots call this; nothing else
 * reads process.env.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

export interface Config {
  sopsDir: string;
  logsDir: string;
  dataDir: string;
  redisUrl?: string;
  host: string;
  port: number;
  /** name → token; undefined when API_TOKENS is unset (the server then generates one). */
  apiTokens?: Map<string, string>;
  admins: string[];
  serverUrl: string;
  logLevel: string;
  /** Runs one process advances at once (SOP_WORKER_CONCURRENCY, default 4). */
  workerConcurrency: number;
  /** Redis driver settings (SOP_REDIS_PREFIX, SOP_LOCK_DURATION_MS, SOP_STALLED_INTERVAL_MS). */
  redis: { prefix: string; lockDurationMs?: number; stalledIntervalMs?: number };
  env: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function parseTokens(value: string | undefined): Map<string, string> | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const tokens = new Map<string, string>();
  for (const pair of list(value)) {
    const i = pair.indexOf(":");
    if (i <= 0 || i === pair.length - 1) throw new ConfigError(`API_TOKENS: "${pair.slice(0, 20)}…" is not name:token`);
    tokens.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return tokens;
}

export function defaultSopsDir(cwd: string): string {
  return existsSync(resolve(cwd, "sops")) ? "./sops" : "./sops-example";
}

function positiveInt(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a whole number >= 1, got "${raw}"`);
  return n;
}

export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Config {
  const port = Number(env["PORT"] ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number, got "${env["PORT"]}"`);
  const config: Config = {
    sopsDir: env["SOPS_DIR"] || defaultSopsDir(cwd),
    logsDir: env["LOGS_DIR"] || "./logs",
    dataDir: env["DATA_DIR"] || "./data",
    host: env["HOST"] || "127.0.0.1",
    port,
    admins: list(env["SOP_ADMINS"]),
    serverUrl: env["SOP_SERVER_URL"] || "http://127.0.0.1:3000",
    logLevel: env["LOG_LEVEL"] || "info",
    workerConcurrency: positiveInt(env, "SOP_WORKER_CONCURRENCY") ?? 4,
    redis: { prefix: env["SOP_REDIS_PREFIX"] || "sop" },
    env,
  };
  const lockDurationMs = positiveInt(env, "SOP_LOCK_DURATION_MS");
  const stalledIntervalMs = positiveInt(env, "SOP_STALLED_INTERVAL_MS");
  if (lockDurationMs !== undefined) config.redis.lockDurationMs = lockDurationMs;
  if (stalledIntervalMs !== undefined) config.redis.stalledIntervalMs = stalledIntervalMs;
  if (env["REDIS_URL"]) config.redisUrl = env["REDIS_URL"];
  const tokens = parseTokens(env["API_TOKENS"]);
  if (tokens) config.apiTokens = tokens;
  return config;
}
