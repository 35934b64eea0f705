/** The few lines `sop serve` prints at start: what loaded, where it listens, what is on and off. */
import type { Logger } from "../app/logger.ts";
import { formatDiagnostic } from "../app/load-sops.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { Diagnostic } from "../core/sop/types.ts";
import { keyPrefix } from "../drivers/redis/redis-keys.ts";
import type { Config } from "../config/config.ts";

export interface ChatPlatform {
  name: "Slack" | "Discord";
  on: boolean;
  why: string;
}

/** Which chat platforms the configuration turns on, and how, in words. */
export function chatPlatforms(config: Config): ChatPlatform[] {
  const slack = config.slack;
  const discord = config.discord;
  return [
    slack
      ? { name: "Slack", on: true, why: slack.appToken ? "Socket Mode" : "HTTP at POST /slack/events" }
      : { name: "Slack", on: false, why: "SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN not set" },
    discord
      ? { name: "Discord", on: true, why: `gateway; commands ${discord.guildId ? `in guild ${discord.guildId}` : "global (may take up to an hour to appear)"}` }
      : { name: "Discord", on: false, why: "DISCORD_TOKEN and DISCORD_APPLICATION_ID not set" },
  ];
}

export function reportSops(log: Logger, runner: SopRunner, sopsDir: string): void {
  const names = runner.list().map((s) => s.name);
  // parsed: how many the parser read; the others came from DATA_DIR's cache.
  log.info({ sops: names.length, dir: sopsDir, parsed: runner.lastLoad.parsed }, `SOPs: ${names.length} loaded from ${sopsDir}${names.length ? `: ${names.join(", ")}` : ""}`);
  reportDiagnostics(log, runner.diagnostics);
}

export function reportDiagnostics(log: Logger, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    if (d.severity === "error") log.error({ file: d.file, line: d.line, column: d.column, code: d.code }, formatDiagnostic(d));
    else log.warn({ file: d.file, line: d.line, column: d.column, code: d.code }, formatDiagnostic(d));
  }
}

export function reportQueue(log: Logger, config: Config, worker: boolean): void {
  if (!config.redisUrl) {
    log.info({ driver: "local", dataDir: config.dataDir }, `queue: in-process (DATA_DIR=${config.dataDir})`);
    return;
  }
  const url = config.redisUrl.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  const keys = keyPrefix(config.redis.prefix);
  log.info({ driver: "redis", url, prefix: config.redis.prefix, keys, worker }, `queue: BullMQ on Redis (${url}, prefix ${config.redis.prefix}, keys under ${keys}:), ${worker ? `a worker in this process (concurrency ${config.workerConcurrency})` : "no worker in this process (SOP_WORKER=0)"}`);
}

/**
 * Where to log in, then where it listens. The listening line is the last line of start-up, so
 * whoever waits for it (an ops script, a test) has seen every line before it.
 */
export function reportListening(log: Logger, o: { config: Config; url: string; generatedToken?: string; tokenNames: string[] }): void {
  if (o.generatedToken !== undefined) {
    log.info({}, `login: ${o.url}/?token=${o.generatedToken}`);
    log.info({}, "  (API_TOKENS is not set, so this token was generated once and is kept in DATA_DIR/secrets/login-token; the sop CLI finds it in DATA_DIR/server.json)");
  } else {
    log.info({ tokens: o.tokenNames }, `API tokens: ${o.tokenNames.join(", ")} (from API_TOKENS); log in at ${o.url}/ with one of them`);
  }
  log.info({ url: o.url }, `HTTP: listening on ${o.url} (web UI, API under /api, /metrics, /healthz)`);
}

export function reportChat(log: Logger, config: Config): void {
  for (const p of chatPlatforms(config)) log.info({ platform: p.name.toLowerCase(), on: p.on }, `${p.name}: ${p.on ? "on" : "off"} (${p.why})`);
}
