/**
 * The bot's HTTP server: the API (SPEC §5.3), /metrics, /healthz, the web UI and, on Redis,
 * Bull Board at /admin/queues. Errors are always `{ "error": "…" }` JSON; request bodies are
 * JSON of at most 256 KiB, checked against a schema (types as sent, unknown fields refused)
 * before a handler sees them.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Queue } from "bullmq";
import type { SopRunner } from "../app/sop-runner.ts";
import type { ChatStatus } from "../chat/chat-adapter.ts";
import type { Config } from "../config/config.ts";
import { registerApi } from "./api/index.ts";
import { refuseLargeBodies } from "./body-limit.ts";
import { errorReply } from "./http-errors.ts";
import { BotMetrics } from "./metrics.ts";
import { registerOpsRoutes } from "./ops-routes.ts";
import { registerWebUi } from "./web/index.ts";

export const BODY_LIMIT_BYTES = 256 * 1024;

export interface ServerDeps {
  runner: SopRunner;
  config: Config;
  /** name → token (API_TOKENS, or the one `sop serve` generated). */
  tokens: Map<string, string>;
  log: Logger;
  /** Shared with the chat adapters (notification failures) and counted from the runner; made here when absent. */
  metrics?: BotMetrics;
  /** The chat platforms' state for /healthz. */
  chat?: () => ChatStatus;
  /** Signs web sessions (SOP_SESSION_SECRET or the key in DATA_DIR); default one per process. */
  sessionKey?: string;
  /** BullMQ's queue (the Redis driver's), shown to admins by Bull Board at /admin/queues. */
  bullQueue?: Queue;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { runner, config, tokens, log } = deps;
  // Typed as fastify's base logger, so the app is the plain FastifyInstance plugins expect.
  const baseLog: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance: baseLog,
    // Request lines are logged below, by route pattern: a raw URL may carry a login token.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Live views (server-sent events) must not hold shutdown open.
    forceCloseConnections: true,
    ajv: {
      customOptions: {
        // An unknown field is an error, not silently dropped: a typo in "run_id" must not approve another run.
        removeAdditional: false,
        // A value of the wrong type is an error, not converted: `"sop": ["a"]` is no name and
        // `"force": 1` no yes. Query strings are text, so their schemas describe text.
        coerceTypes: false,
        // Errors carry their schema, so a pattern's `description` can say what the value must be.
        verbose: true,
      },
    },
  });
  const metrics = deps.metrics ?? new BotMetrics(runner, log);
  if (!deps.metrics) {
    const stop = metrics.start();
    // eslint-disable-next-line @typescript-eslint/require-await -- avvio catches a throw only from an onClose hook that returns a promise
    app.addHook("onClose", async () => {
      stop();
    });
  }

  refuseLargeBodies(app, BODY_LIMIT_BYTES);
  app.setErrorHandler(async (err, req, reply) => {
    const answer = errorReply(err);
    if (answer.internal) req.log.error({ err, route: req.routeOptions.url, method: req.method }, "request failed");
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0] ?? ""}`, code: "not_found" }));
  app.addHook("onResponse", async (req, reply) => {
    req.log.debug({ method: req.method, route: req.routeOptions.url ?? "(none)", status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
  });

  registerOpsRoutes(app, { runner, config, metrics, ...(deps.chat ? { chat: deps.chat } : {}) });
  await registerApi(app, { runner, tokens, log });
  const web = await registerWebUi(app, { runner, tokens, log, logsDir: config.logsDir, ...(deps.sessionKey ? { sessionKey: deps.sessionKey } : {}) });
  const queue = deps.bullQueue;
  if (queue) {
    // Loaded only here: Bull Board and its view and static plugins cost ~30 MB of RSS, which
    // the local driver, having no BullMQ queue to show, should not pay.
    const { registerBullBoard } = await import("./bull-board.ts");
    await registerBullBoard(app, { queue, sessionOf: web.sessionOf, log, admins: deps.config.admins });
  }
  return app;
}
