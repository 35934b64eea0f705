/**
 * Configuration from the environment (SPEC §6). The composition roots call this; nothing else
 * reads process.env.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_PREFIX, prefixProblem } from "../drivers/redis/redis-keys.ts";

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
  /**
   * Redis driver settings (SOP_REDIS_PREFIX, SOP_LOCK_DURATION_MS, SOP_STALLED_INTERVAL_MS). The
   * keys are under the prefix wrapped in a hash tag (`sop` → `{sop}`) unless it has one.
   */
  redis: { prefix: string; lockDurationMs?: number; stalledIntervalMs?: number };
  /**
   * How long a worker's claim on the run it drives lasts without renewal (SOP_LOCK_DURATION_MS,
   * default 30 s, the same as BullMQ's job lock): a run whose worker died is taken over after it.
   */
  claimTtlMs: number;
  /** How often every worker looks for runs nobody moves (SOP_SWEEP_INTERVAL_MS, default 30 s). */
  sweepIntervalMs: number;
  /**
   * Days the store keeps an ended run's state (SOP_RETENTION_DAYS, default 30); undefined keeps
   * it forever (`0` or `off`). Audit files are never pruned.
   */
  retentionDays?: number;
  /** How long running steps may finish after SIGTERM (SOP_SHUTDOWN_GRACE_SECS, default 30). */
  shutdownGraceSecs: number;
  /** Base URL of the web UI in chat links (SOP_PUBLIC_URL); default the address `sop serve` listens on. */
  publicUrl?: string;
  /**
   * The key that signs web sessions (SOP_SESSION_SECRET); unset, `sop serve` keeps one in
   * DATA_DIR. Servers behind one load balancer need the same.
   */
  sessionSecret?: string;
  slack?: SlackConfig;
  discord?: DiscordConfig;
  env: Readonly<Record<string, string | undefined>>;
}

/** Slack is on with a bot token and either a signing secret (HTTP) or an app token (Socket Mode). */
export interface SlackConfig {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  apiUrl?: string;
  channel?: string;
}

/** Discord is on with a bot token and the application id. */
export interface DiscordConfig {
  token: string;
  applicationId: string;
  guildId?: string;
  channelId?: string;
  apiUrl?: string;
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

function seconds(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number of seconds >= 0, got "${raw}"`);
  return n;
}

function retentionDays(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env["SOP_RETENTION_DAYS"]?.trim();
  if (raw === undefined || raw === "") return 30;
  if (raw === "0" || raw.toLowerCase() === "off") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`SOP_RETENTION_DAYS must be a number of days > 0 (default 30), or 0 or "off" to keep ended runs forever; got "${raw}"`);
  }
  return n;
}

function redisPrefix(env: Readonly<Record<string, string | undefined>>): string {
  const prefix = env["SOP_REDIS_PREFIX"] || DEFAULT_PREFIX;
  const problem = prefixProblem(prefix);
  if (problem !== undefined) throw new ConfigError(`SOP_REDIS_PREFIX "${prefix}" is not usable: ${problem}`);
  return prefix;
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
    redis: { prefix: redisPrefix(env) },
    claimTtlMs: positiveInt(env, "SOP_LOCK_DURATION_MS") ?? 30_000,
    sweepIntervalMs: positiveInt(env, "SOP_SWEEP_INTERVAL_MS") ?? 30_000,
    shutdownGraceSecs: seconds(env, "SOP_SHUTDOWN_GRACE_SECS") ?? 30,
    env,
  };
  const lockDurationMs = positiveInt(env, "SOP_LOCK_DURATION_MS");
  const stalledIntervalMs = positiveInt(env, "SOP_STALLED_INTERVAL_MS");
  if (lockDurationMs !== undefined) config.redis.lockDurationMs = lockDurationMs;
  if (stalledIntervalMs !== undefined) config.redis.stalledIntervalMs = stalledIntervalMs;
  const retention = retentionDays(env);
  if (retention !== undefined) config.retentionDays = retention;
  if (env["REDIS_URL"]) config.redisUrl = env["REDIS_URL"];
  if (env["SOP_PUBLIC_URL"]) config.publicUrl = env["SOP_PUBLIC_URL"].replace(/\/+$/, "");
  if (env["SOP_SESSION_SECRET"]) config.sessionSecret = sessionSecret(env["SOP_SESSION_SECRET"]);
  const slack = slackConfig(env);
  if (slack) config.slack = slack;
  const discord = discordConfig(env);
  if (discord) config.discord = discord;
  const tokens = parseTokens(env["API_TOKENS"]);
  if (tokens) config.apiTokens = tokens;
  return config;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The key signs every web session: a short one could be guessed. */
function sessionSecret(value: string): string {
  const secret = value.trim();
  if (secret.length < 32) throw new ConfigError(`SOP_SESSION_SECRET must be at least 32 characters (it has ${secret.length}); make one with: openssl rand -base64 32`);
  return secret;
}

/** Only the variables that are set, so optional fields stay absent rather than undefined. */
function pick<K extends string>(env: Env, names: Record<K, string>): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, name] of Object.entries(names) as [K, string][]) if (env[name]) out[key] = env[name];
  return out;
}

function slackConfig(env: Env): SlackConfig | undefined {
  const botToken = env["SLACK_BOT_TOKEN"];
  if (!botToken) {
    if (env["SLACK_APP_TOKEN"] || env["SLACK_SIGNING_SECRET"]) throw new ConfigError("SLACK_BOT_TOKEN is not set, but other SLACK_ variables are: Slack needs the bot token (xoxb-…)");
    return undefined;
  }
  if (!env["SLACK_SIGNING_SECRET"] && !env["SLACK_APP_TOKEN"]) {
    throw new ConfigError("SLACK_BOT_TOKEN is set without SLACK_SIGNING_SECRET (HTTP at POST /slack/events) or SLACK_APP_TOKEN (Socket Mode)");
  }
  return { botToken, ...pick(env, { signingSecret: "SLACK_SIGNING_SECRET", appToken: "SLACK_APP_TOKEN", apiUrl: "SLACK_API_URL", channel: "SLACK_CHANNEL" }) };
}

function discordConfig(env: Env): DiscordConfig | undefined {
  const token = env["DISCORD_TOKEN"];
  const applicationId = env["DISCORD_APPLICATION_ID"];
  if (!token && !applicationId) return undefined;
  if (!token || !applicationId) throw new ConfigError(`${token ? "DISCORD_APPLICATION_ID" : "DISCORD_TOKEN"} is not set: Discord needs both the bot token and the application id`);
  return { token, applicationId, ...pick(env, { guildId: "DISCORD_GUILD_ID", channelId: "DISCORD_CHANNEL_ID", apiUrl: "DISCORD_API_URL" }) };
}
