/**
 * The Bolt app and its link to Slack: Socket Mode when SLACK_APP_TOKEN is set (no public URL
 * needed), otherwise Slack's HTTP requests at POST /slack/events on the bot's own server, their
 * signature and age checked by Bolt's HTTPReceiver, a date too far ahead refused before it, and a
 * repeat of a request that passed answered without running it again.
 *
 * An outage or a revoked token must never take the bot down, so nothing here throws or waits
 * in `start`: Bolt's constructor-time auth.test is deferred and retried with backoff, Socket
 * Mode reconnects through our own loop (the library's own reconnect ends in an unhandled
 * rejection when apps.connections.open fails), listener errors are logged and swallowed, and
 * the cause of a failure is logged once and shown by `health()`. A command or click that
 * arrives before the bot is connected is answered with why nothing happens.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { App, HTTPReceiver, SocketModeReceiver, type AppOptions } from "@slack/bolt";
import type { ExtendedErrorHandlerArgs } from "@slack/bolt/dist/App.js";
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../src/app/logger.ts";
import type { SlackConfig } from "../../src/config/config.ts";
import { ephemeral, message } from "../../src/chat/chat-message.ts";
import type { MessageLedger } from "../../src/ports/message-ledger.ts";
import { CauseLog } from "./cause-log.ts";
import { runOnce, signedRequestOf } from "./replayed-requests.ts";
import { postToResponseUrl, responseBody, responseUrlOf } from "./replies.ts";
import { tooFarAhead } from "./request-freshness.ts";
import { describeSlackError } from "./slack-errors.ts";
import { toSlackLogger } from "./slack-logger.ts";

export const EVENTS_PATH = "/slack/events";

/** Delays between connection attempts: doubling from `firstMs` up to `maxMs`. */
export interface Backoff {
  firstMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { firstMs: 1000, maxMs: 60_000 };

export interface SlackAppOptions {
  config: SlackConfig;
  /** The bot's server, before it listens; HTTP mode adds its route here. */
  http: FastifyInstance;
  log: Logger;
  /** Where HTTP mode remembers the requests it ran, so a repeat runs nothing (Redis: in every process). */
  ledger: MessageLedger;
  now: () => number;
  backoff?: Backoff;
}

export type WebClientOptions = NonNullable<AppOptions["clientOptions"]>;

/** How every Web API call of the bot is made (tests build their clients with it too). */
export function webClientOptions(apiUrl: string | undefined): WebClientOptions {
  return {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    // A 429 is thrown at once with its Retry-After, for the notifier to wait out; no call
    // queues or sleeps inside the client, where it would hold up everything behind it.
    rejectRateLimitedCalls: true,
    // Every caller retries in its own way (the notifier, deliverWithRetry, the connection
    // loops); a person clicking gets an answer now rather than after minutes of silent retries.
    retryConfig: { retries: 0 },
    timeout: 10_000,
  };
}

export class SlackApp {
  readonly app: App;
  readonly mode: "socket" | "http";
  private status = "connecting";
  private everConnected = false;
  private stopping = false;
  private running: Promise<void> | undefined;
  private reconnecting = false;
  private readonly abort = new AbortController();
  private readonly socket: SocketModeReceiver | undefined;
  private readonly problems: CauseLog;
  private readonly dropped: CauseLog;
  private readonly backoff: Backoff;

  constructor(private readonly o: SlackAppOptions) {
    const { config, log } = o;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.problems = new CauseLog(log, "not connected, retrying");
    this.dropped = new CauseLog(log, "requests from Slack are acknowledged and dropped until the bot is connected");
    const logger = toSlackLogger(log);
    const clientOptions = webClientOptions(config.apiUrl);
    this.mode = config.appToken ? "socket" : "http";
    const receiver = config.appToken
      ? (this.socket = new SocketModeReceiver({
          appToken: config.appToken,
          logger,
          autoReconnectEnabled: false,
          // A copy: the Socket Mode client writes its own retry defaults into the object it gets.
          installerOptions: { clientOptions: { ...clientOptions } },
        }))
      : new HTTPReceiver({ signingSecret: config.signingSecret ?? "", endpoints: EVENTS_PATH, logger, customPropertiesExtractor: signedRequestOf });
    this.app = new App({
      token: config.botToken,
      receiver,
      socketMode: this.mode === "socket",
      deferInitialization: true,
      logger,
      clientOptions,
      extendedErrorHandler: true,
    });
    // eslint-disable-next-line @typescript-eslint/require-await -- Bolt's error handler type returns a promise
    this.app.error(async ({ error, body }: ExtendedErrorHandlerArgs) => {
      // Swallowed on purpose: rethrowing would only turn into a 500 or an unhandled rejection.
      if (error.code === "slack_bolt_authorization_error") {
        // No listener can run before auth.test passes; Bolt acks once this returns.
        this.dropped.failed(this.status);
        this.tellNotConnected(body);
        return;
      }
      const request = body as { type?: string; command?: string } | undefined;
      const cause = describeSlackError(error.original ?? error);
      log.error({ platform: "slack", err: error.original ?? error, code: error.code, request: request?.command ?? request?.type }, `Slack: a handler failed: ${cause}`);
    });
    if (receiver instanceof HTTPReceiver) {
      // Before any listener: a repeat must reach none of them.
      this.app.use(runOnce({ ledger: o.ledger, now: o.now, log }));
      mountEvents(o.http, receiver, o.now, log);
    }
    this.socket?.client.on("disconnected", () => {
      if (this.stopping) return;
      this.status = "connecting";
      void this.reconnect();
    });
  }

  /** `connected`, `connecting` or `error: …`. */
  health(): string {
    return this.status;
  }

  /** Connects in the background; never throws. */
  start(): void {
    this.running ??= this.connect();
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    // app.stop() does not wait for the socket to close, and in HTTP mode has nothing to stop.
    await this.socket?.client.disconnect();
    await this.running;
    this.status = "closed";
  }

  private async connect(): Promise<void> {
    if (!(await this.authenticate())) return;
    if (this.socket) await this.reconnect();
    else this.connected();
  }

  /** auth.test until it passes: it gives Bolt the bot's own ids, so the bot ignores its own messages. */
  private async authenticate(): Promise<boolean> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.app.init();
        return true;
      } catch (err) {
        this.failed(err);
        await this.pause(attempt);
      }
    }
    return false;
  }

  /** One loop at a time, however many "disconnected" events arrive while it runs. */
  private async reconnect(): Promise<void> {
    if (!this.socket || this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 0; !this.stopping; attempt++) {
        try {
          await this.socket.client.start();
          // Closed while connecting: the socket that just opened must not outlive us.
          // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may set it while start() awaits; the narrowing from the loop test does not know
          if (this.stopping) await this.socket.client.disconnect();
          else this.connected();
          return;
        } catch (err) {
          this.failed(err);
          await this.pause(attempt);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private connected(): void {
    this.status = "connected";
    this.dropped.clear();
    if (!this.everConnected) {
      this.everConnected = true;
      this.problems.clear();
      this.o.log.info({ platform: "slack", mode: this.mode }, `Slack: connected (${this.mode === "socket" ? "Socket Mode" : `HTTP at POST ${EVENTS_PATH}`})`);
    } else {
      this.problems.recovered("connected again");
    }
  }

  /**
   * A person who typed a command or clicked hears why nothing happens, through the request's
   * response_url, which needs no token. In the background: Bolt acks only after this handler
   * returns, and Slack wants the ack within 3 seconds.
   */
  private tellNotConnected(body: unknown): void {
    const url = responseUrlOf(body);
    if (!url) return;
    const cause = this.status.startsWith("error: ") ? this.status.slice("error: ".length) : "still connecting";
    const reply = ephemeral(message({ title: `sop-runner is not connected to Slack right now (${cause}); try again in a moment`, tone: "failure" }));
    postToResponseUrl(url, responseBody(reply, true)).catch((err: unknown) => {
      this.o.log.warn({ platform: "slack", err }, `Slack: could not say that the bot is not connected: ${String(err)}`);
    });
  }

  private failed(err: unknown): void {
    if (this.stopping) return;
    const cause = describeSlackError(err);
    this.status = `error: ${cause}`;
    this.problems.failed(cause);
  }

  private async pause(attempt: number): Promise<void> {
    const ms = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** attempt);
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }
}

/**
 * Slack's requests go to Bolt's own listener untouched: it needs the raw body for the signature,
 * and answers url_verification, ssl_check, 401 on a bad or stale signature and the 3-second ack
 * itself. Hijacking in onRequest keeps fastify from reading or answering the request. Only a date
 * too far ahead, which Bolt does not look for, is refused here, from the header alone.
 */
function mountEvents(http: FastifyInstance, receiver: HTTPReceiver, now: () => number, log: Logger): void {
  const refused = new CauseLog(log, "a request was refused (401)");
  http.post(EVENTS_PATH, {
    onRequest: (request, reply, done) => {
      reply.hijack();
      const ahead = tooFarAhead(request.headers["x-slack-request-timestamp"], now());
      if (ahead) {
        refused.failed(ahead);
        reply.raw.writeHead(401).end();
        done();
        return;
      }
      try {
        receiver.requestListener(request.raw, reply.raw);
      } catch (err) {
        log.error({ platform: "slack", err }, "Slack: the request listener failed");
        if (!reply.raw.headersSent) reply.raw.writeHead(500).end();
      }
      done();
    },
  }, () => undefined);
}
