/**
 * `GET /metrics` and `GET /healthz`. Neither needs a token: like most exporters they are meant for
 * scrapers and load balancers, and they show counts and states, never run contents. Keep HOST on
 * a private interface (or filter /metrics at the proxy) when that matters.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { SopRunner } from "../app/sop-runner.ts";
import type { ChatStatus } from "../chat/chat-adapter.ts";
import type { Config } from "../config/config.ts";
import type { BotMetrics } from "./metrics.ts";

export interface HealthReport {
  status: "ok" | "degraded";
  /** Lets `sop` tell a sop-runner server from anything else on the port. */
  service: "sop-runner";
  store: string;
  queue: string;
  sops: number;
  /** "off", or the platform's connection and notification backlog. An outage there does not make the bot unhealthy. */
  chat: ChatStatus;
}

export function registerOpsRoutes(app: FastifyInstance, deps: { runner: SopRunner; config: Config; metrics: BotMetrics; chat?: () => ChatStatus }): void {
  const { runner, config, metrics } = deps;

  app.get("/metrics", async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));

  app.get("/healthz", async (_req, reply) => {
    const store = await checkStore(runner, config.redisUrl ? undefined : config.dataDir);
    const report: HealthReport = {
      status: store === "ok" ? "ok" : "degraded",
      service: "sop-runner",
      store,
      queue: config.redisUrl ? "redis" : "in-process",
      sops: runner.list().length,
      chat: deps.chat?.() ?? { slack: "off", discord: "off" },
    };
    return reply.code(report.status === "ok" ? 200 : 503).send(report);
  });
}

const STORE_TIMEOUT_MS = 2000;

/** The local store answers from memory, so its DATA_DIR must also stay writable; Redis must answer in time. */
async function checkStore(runner: SopRunner, dataDir: string | undefined): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (dataDir !== undefined) await access(dataDir, constants.W_OK);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
    });
    await Promise.race([runner.runs({ statuses: ["queued"] }), timeout]);
    return "ok";
  } catch (err) {
    return `error: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
