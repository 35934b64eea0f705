/**
 * What the composition root knows of a chat platform. An adapter connects, turns the platform's
 * commands, clicks and messages into ChatActions calls, and runs a ChatNotifier over its own
 * ChatSurface. An outage or a revoked token never stops the bot: `start` resolves anyway, the
 * adapter keeps trying, and `health` says what is wrong.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../app/logger.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { MessageLedger, Platform } from "../ports/message-ledger.ts";
import type { NotifierHealth } from "./notifier.ts";
import type { MessageContext } from "./run-messages.ts";

export interface ChatAdapterDeps {
  runner: SopRunner;
  /** What the adapters posted and handled, kept beside the runs (see `Deployment`). */
  ledger: MessageLedger;
  /** The bot's HTTP server, before it listens (Slack's HTTP mode adds POST /slack/events). */
  http: FastifyInstance;
  log: Logger;
  context: MessageContext;
  onNotificationFailure?: (platform: Platform) => void;
}

/** Each platform's state, for /healthz; `off` when it is not configured. */
export type ChatStatus = Record<Platform, "off" | ChatHealth>;

export interface ChatHealth {
  /** `connected`, `connecting`, or `error: …` with the cause. */
  connection: string;
  notifications: NotifierHealth;
}

export interface ChatAdapter {
  readonly platform: Platform;
  /** Connects and starts notifying; resolves even when the platform cannot be reached. */
  start(): Promise<void>;
  health(): ChatHealth;
  /** Resolves once notifications marked so far are delivered or wait for a retry (tests, bench). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
