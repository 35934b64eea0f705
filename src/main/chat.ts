/**
 * The chat platforms the configuration turns on. Each adapter is imported only when its
 * platform is on, so a bot without Slack or Discord never loads Bolt or discord.js.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../app/logger.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { ChatAdapter, ChatStatus } from "../chat/chat-adapter.ts";
import type { MessageContext } from "../chat/run-messages.ts";
import type { MetricsSink } from "../http/metrics.ts";
import type { MessageLedger, Platform } from "../ports/message-ledger.ts";
import type { Config } from "../config/config.ts";


export class ChatSet {
  private baseUrl: string | undefined;

  constructor(readonly adapters: ChatAdapter[], publicUrl: string | undefined) {
    this.baseUrl = publicUrl;
  }

  /** Links in messages point here unless SOP_PUBLIC_URL says otherwise. */
  listeningAt(url: string): void {
    this.baseUrl ??= url;
  }

  readonly context: MessageContext = { runUrl: (id) => `${this.baseUrl ?? ""}/runs/${encodeURIComponent(id)}` };

  async start(): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.start()));
  }

  status(): ChatStatus {
    const status: ChatStatus = { slack: "off", discord: "off" };
    for (const a of this.adapters) status[a.platform] = a.health();
    return status;
  }

  async idle(): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.idle()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.adapters.map((a) => a.close()));
  }
}

export async function openChat(config: Config, deps: { runner: SopRunner; ledger: MessageLedger; http: FastifyInstance; log: Logger; metrics: MetricsSink }): Promise<ChatSet> {
  const adapters: ChatAdapter[] = [];
  const set = new ChatSet(adapters, config.publicUrl);
  const common = {
    runner: deps.runner, ledger: deps.ledger, http: deps.http, context: set.context,
    onNotificationFailure: (platform: Platform) => {
      deps.metrics.notificationFailed(platform);
    },
  };
  if (config.slack) {
    const { SlackAdapter } = await import("../../adapters/slack/index.ts");
    adapters.push(new SlackAdapter({ ...common, log: deps.log, config: config.slack }));
  }
  if (config.discord) {
    const { DiscordAdapter } = await import("../../adapters/discord/index.ts");
    adapters.push(new DiscordAdapter({ ...common, log: deps.log, config: config.discord }));
  }
  return set;
}
