/**
 * Slack: `/approve`, `/deny` and `/sop`, Approve / Deny buttons, message triggers, and run
 * notifications kept up to date in the SOP's channels. The adapter only translates: commands,
 * clicks and messages go to ChatActions with the person's Slack identity, and the notifier
 * renders runs through a Block Kit surface. Whether anything is allowed is the engine's call.
 */
import { ChatActions, type ChatCaller } from "../../src/chat/chat-actions.ts";
import type { ChatAdapter, ChatAdapterDeps, ChatHealth } from "../../src/chat/chat-adapter.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import type { SlackConfig } from "../../src/config/config.ts";
import { registerClicks } from "./clicks.ts";
import { registerCommands } from "./commands.ts";
import { MessageTriggers } from "./messages.ts";
import { SlackApp, type Backoff } from "./slack-app.ts";
import { SlackGroups } from "./slack-groups.ts";
import { SlackSurface } from "./slack-surface.ts";

export interface SlackAdapterOptions extends ChatAdapterDeps {
  config: SlackConfig;
  /** Delays between connection attempts (tests shorten them). */
  backoff?: Backoff;
  /** The clock for request dates and group caching; default the system's. */
  now?: () => number;
}

export class SlackAdapter implements ChatAdapter {
  readonly platform = "slack" as const;
  private readonly slack: SlackApp;
  private readonly notifier: ChatNotifier;
  private readonly groups: SlackGroups;
  private readonly messages: MessageTriggers;

  constructor(private readonly deps: SlackAdapterOptions) {
    const { runner, ledger, http, log, context, config } = deps;
    const now = deps.now ?? Date.now;
    this.slack = new SlackApp({ config, http, log, ledger, now, ...(deps.backoff ? { backoff: deps.backoff } : {}) });
    const { client } = this.slack.app;
    this.groups = new SlackGroups(client, log, now);
    this.notifier = new ChatNotifier({
      runner, ledger, context, log,
      surface: new SlackSurface(client, config.channel),
      ...(deps.onNotificationFailure ? { onFailure: deps.onNotificationFailure } : {}),
    });
    const actions = new ChatActions({ runner, ledger, context, log, touched: (runId) => this.notifier.mark(runId) });
    const listeners = { runner, actions, log, caller: (user: string, channel: string | undefined) => this.caller(user, channel) };
    registerCommands(this.slack.app, listeners);
    registerClicks(this.slack.app, listeners);
    this.messages = new MessageTriggers(listeners);
    this.messages.register(this.slack.app);
  }

  async start(): Promise<void> {
    this.slack.start();
    await this.notifier.start();
  }

  health(): ChatHealth {
    return { connection: this.slack.health(), notifications: this.notifier.health() };
  }

  async idle(): Promise<void> {
    await this.messages.idle();
    await this.notifier.idle();
  }

  async close(): Promise<void> {
    await this.slack.close();
    await this.messages.close();
    await this.notifier.close();
  }

  /**
   * A person's user groups are looked up only when the engine asks about one (SOP_ADMINS, the
   * approvers of what a decision targets): usergroups.users.list is rate-limited, and a Deny click
   * must open its form within the 3 seconds its trigger_id lives.
   */
  private caller(userId: string, channelId: string | undefined): ChatCaller {
    return {
      actor: { id: `slack:${userId}`, memberOf: (group) => this.groups.has(userId, group) },
      source: channelId ? `slack:${channelId}` : "slack",
    };
  }
}
