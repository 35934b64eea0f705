/**
 * `sop serve` / `npm start`: the composition root of the bot. Reads `.env` and the environment,
 * opens the runner (which recovers what a previous process left), starts the HTTP server, the
 * triggers and hot reload, and on SIGTERM or SIGINT stops taking work, lets running steps finish
 * for SOP_SHUTDOWN_GRACE_SECS (default 30, as `sop worker`), interrupts what is left, and exits 0.
 * A second signal interrupts at once.
 */
import { userInfo } from "node:os";
import type { Logger } from "pino";
import { SopError } from "../app/sop-error.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import { openDeployment, type Deployment } from "../compose/open-deployment.ts";
import type { SopDefinition } from "../core/sop/types.ts";
import { ShellExecutor } from "../exec/shell-executor.ts";
import { BotMetrics } from "../http/metrics.ts";
import { buildServer } from "../http/server.ts";
import { openChat, type ChatSet } from "./chat.ts";
import { ConfigError, readConfig, type Config } from "../config/config.ts";
import { createLogger } from "./create-logger.ts";
import { withDotEnv } from "../config/dot-env.ts";
import { InterruptibleExecutor } from "./interruptible-executor.ts";
import { persistedSecret } from "./persisted-secret.ts";
import { removeServerFile, writeServerFile } from "../config/server-file.ts";
import { watchSops, type SopChanges } from "./sops-watcher.ts";
import { reportChat, reportDiagnostics, reportListening, reportQueue, reportSops } from "./startup-report.ts";
import { TriggerSet } from "./triggers/index.ts";

export interface ServeIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  isTTY: boolean;
  stderr: (text: string) => void;
  /** Resolves with the reason to stop; default: the first SIGTERM or SIGINT. */
  stopSignal?: Promise<string>;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|::1|\[::1\])$/i;

export async function serve(io: ServeIo, overrides: { sopsDir?: string; logsDir?: string } = {}): Promise<number> {
  const env = withDotEnv(io.env, io.cwd);
  let config: Config;
  try {
    config = { ...readConfig(env, io.cwd), ...overrides };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`sop serve: ${err.message}\n`);
    return 2;
  }
  const log = await createLogger({ level: config.logLevel, pretty: io.isTTY && !env["NO_COLOR"] });
  if (!LOOPBACK.test(config.host) && !config.apiTokens) {
    log.fatal({ host: config.host }, `refusing to listen on HOST=${config.host} without API_TOKENS: anyone who reaches it could run and approve SOPs. Set API_TOKENS=name:token,… or use HOST=127.0.0.1`);
    return 2;
  }
  // Kept in DATA_DIR, so a restart keeps the login link and the web sessions working.
  let generated: { name: string; token: string } | undefined;
  let tokens: Map<string, string>;
  let sessionKey: string;
  try {
    if (config.apiTokens) tokens = config.apiTokens;
    else {
      generated = { name: localName(), token: await persistedSecret(config.dataDir, "login-token") };
      tokens = new Map([[generated.name, generated.token]]);
    }
    sessionKey = config.sessionSecret ?? await persistedSecret(config.dataDir, "session-key");
  } catch (err) {
    log.fatal({ err }, `cannot keep the login token or the session key in DATA_DIR=${config.dataDir}: ${(err as Error).message}`);
    return 1;
  }
  const executor = new InterruptibleExecutor(new ShellExecutor());

  let deployment: Deployment;
  try {
    deployment = await openDeployment({
      config, env, log, owner: "sop serve", executor,
      // The generated token is the person at this machine, as the in-process CLI's local:<user> is.
      admins: [...config.admins, ...(generated ? [`api:${generated.name}`] : [])],
      // With Redis, SOP_WORKER=0 makes this process the bot only and leaves the steps to `sop worker`s.
      worker: !(config.redisUrl && env["SOP_WORKER"] === "0"),
      // The bot keeps SOPS_DIR's parses, so its next start and its reloads parse only what changed.
      sopCache: "write",
      retention: true,
    });
  } catch (err) {
    log.fatal({ err }, `cannot start: ${(err as Error).message}`);
    return err instanceof SopError ? 2 : 1;
  }
  const { runner } = deployment;
  reportSops(log, runner, config.sopsDir);
  reportQueue(log, config, env["SOP_WORKER"] !== "0");

  const metrics = new BotMetrics(runner, log);
  const stopMetrics = metrics.start();
  const triggers = new TriggerSet({ runner, log }, config.sopsDir);
  let chat: ChatSet | undefined;
  const app = await buildServer({
    runner, config, tokens, log, metrics, sessionKey, chat: () => chat?.status() ?? { slack: "off", discord: "off" },
    ...(deployment.bullQueue ? { bullQueue: deployment.bullQueue } : {}),
  });
  let url: string;
  try {
    chat = await openChat(config, { runner, ledger: deployment.ledger, http: app, log, metrics });
    await app.listen({ host: config.host, port: config.port });
    url = urlOf(config.host, app.server.address());
  } catch (err) {
    log.fatal({ err }, `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
    await app.close();
    await runner.close();
    return 1;
  }
  chat.listeningAt(url);

  await triggers.sync(runner.sops().map((s) => s.definition));
  const counts = triggers.counts();
  const commands = runner.list().flatMap((s) => s.triggers.filter((t) => t.type === "command")).length;
  log.info(counts, `triggers: ${counts.schedule} schedule, ${counts.file_watch} file_watch, ${commands} command`);
  const watcher = await watchSops({
    sopsDir: config.sopsDir, log,
    reload: (changed) => reloadSops(log, runner, changed, (defs) => triggers.sync(defs)),
  });
  await writeServerFile(config.dataDir, { url, pid: process.pid, ...(generated ? { token: generated.token } : {}) });
  reportChat(log, config);
  reportListening(log, { config, url, tokenNames: [...tokens.keys()], ...(generated ? { generatedToken: generated.token } : {}) });
  // A chat library that rejects a promise nobody awaits (a reconnect failing during an outage)
  // must not take the bot down with every run it holds; it is a bug to log, not a reason to exit.
  const stray = (err: unknown): void => log.error({ err: err instanceof Error ? err.stack ?? err.message : String(err) }, "unhandled rejection; the bot keeps running");
  process.on("unhandledRejection", stray);
  // Connecting may take a while or fail (an outage, a revoked token); the bot serves meanwhile.
  void chat.start().catch((err: unknown) => log.error({ err }, "chat: cannot start"));

  const reason = await (io.stopSignal ?? firstSignal());
  const graceSecs = config.shutdownGraceSecs;
  // Local: the step is recovered at the next start. Redis: its job is redelivered to a worker.
  const mode = config.redisUrl ? "abandon" : "reject";
  log.info({ reason }, `${reason}: shutting down; no new work is taken, running steps get ${graceSecs} s to finish`);
  // A second signal means now: interrupt what runs (the next start recovers it) and go.
  let interrupted: Promise<void> | undefined;
  const interrupt = (): void => {
    interrupted ??= executor.interrupt(mode);
  };
  const again = (): void => interrupt();
  process.once("SIGTERM", again).once("SIGINT", again);
  try {
    await watcher.close();
    await triggers.close();
    await chat.close();
    await app.close();
    stopMetrics();
    const grace = setTimeout(() => {
      if (executor.size > 0) log.warn({ steps: executor.size }, `interrupting ${executor.size} running step(s); ${mode === "reject" ? "the next start marks them failed (interrupted)" : "a worker takes them over once their lock expires"}`);
      interrupt();
    }, graceSecs * 1000);
    const closing = runner.close();
    // An abandoned step's job never finishes here, so close() would wait for it forever.
    await (mode === "reject" ? closing : Promise.race([closing, untilInterrupted(() => interrupted)]));
    clearTimeout(grace);
    await removeServerFile(config.dataDir);
  } finally {
    process.off("SIGTERM", again).off("SIGINT", again);
  }
  process.off("unhandledRejection", stray);
  log.info({}, "stopped");
  // Whatever still holds the event loop (an abandoned job's Redis connection) must not keep us.
  setTimeout(() => process.exit(0), 2000).unref();
  return 0;
}

async function untilInterrupted(current: () => Promise<void> | undefined): Promise<void> {
  while (current() === undefined) await new Promise((r) => setTimeout(r, 50));
  await current();
}

/** Reload, re-arm triggers, then report: once "SOPs reloaded" is logged, the new SOPs' triggers listen. */
async function reloadSops(log: Logger, runner: SopRunner, seen: SopChanges, armTriggers: (defs: SopDefinition[]) => Promise<void>): Promise<void> {
  const started = performance.now();
  // Only the folders that changed are read again; the others keep what they had.
  const { added, changed, removed, fresh, folders: read, parsed } = await runner.reload(seen === "all" ? undefined : seen);
  const sops = runner.sops();
  await armTriggers(sops.map((s) => s.definition));
  const parts = [added.length && `added ${added.join(", ")}`, changed.length && `changed ${changed.join(", ")}`, removed.length && `removed ${removed.join(", ")}`].filter(Boolean);
  const broken = fresh.some((d) => d.severity === "error");
  if (broken) parts.push("a broken edit: its SOP keeps its last good version (the errors follow)");
  // How many folders were read, how many of them parsed (the others were unchanged or cached), how long it took.
  const ms = Math.round(performance.now() - started);
  // Files that are not SOP.toml or SOP.md (a script, a step's output) change nothing worth a line.
  if (parts.length) log.info({ added, changed, removed, broken, sops: sops.length, read, parsed, ms }, `SOPs reloaded: ${parts.join("; ")} (${sops.length} loaded)`);
  else log.debug({ sops: sops.length, read, parsed, ms }, "SOPs reloaded: no change");
  reportDiagnostics(log, fresh);
  if (broken) log.error({}, "a broken SOP keeps its last good version until the errors above are fixed");
}

function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => {
      process.off("SIGTERM", term).off("SIGINT", int);
      resolve(signal);
    };
    const term = on("SIGTERM");
    const int = on("SIGINT");
    process.on("SIGTERM", term).on("SIGINT", int);
  });
}

function localName(): string {
  const name = userInfo().username.replace(/[^A-Za-z0-9_.-]/g, "_");
  return name || "local";
}

function urlOf(host: string, address: ReturnType<import("node:net").Server["address"]>): string {
  const port = typeof address === "object" && address ? address.port : 0;
  const shown = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
