/**
 * Slack: `/approve`, `/deny` and `/sop`, Approve / Deny buttons, message triggers, and run
 * notifications kept up to date in the SOP's channels. The adapter only translates: commands,
 * clicks and messages go to ChatActions with the person's Slack identity, and the notifier
 * renders runs through a Block Kit surface. Whether anything is allowed is the engine's call.
 */
import { ChatActions, type ChatCaller } from "../../src/chat/chat-actions.ts";
import type { ChatAdapter, ChatAdapterDeps, ChatHealth } from "../../src/chat/chat-adapter.ts";
import { namedGroups } from "../../src/chat/named-groups.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import type { SlackConfig } from "../../src/main/config.ts";
import { registerClicks } from "./clicks.ts";
import { registerCommands } from "./commands.ts";
import { registerMessages } from "./messages.ts";
import { SlackApp, type Backoff } from "./slack-app.ts";
import { GROUP_PREFIX, SlackGroups } from "./slack-groups.ts";
import { SlackSurface } from "./slack-surface.ts";

export interface SlackAdapterOptions extends ChatAdapterDeps {
  config: SlackConfig;
  /** Delays between connection attempts (tests shorten them). */
  backoff?: Backoff;
}

export class SlackAdapter implements ChatAdapter {
  readonly platform = "slack" as const;
  private readonly slack: SlackApp;
  private readonly notifier: ChatNotifier;
  private readonly groups: SlackGroups;

  constructor(private readonly deps: SlackAdapterOptions) {
    const { runner, http, log, context, config } = deps;
    this.slack = new SlackApp({ config, http, log, ...(deps.backoff ? { backoff: deps.backoff } : {}) });
    const { client } = this.slack.app;
    this.groups = new SlackGroups(client, log);
    this.notifier = new ChatNotifier({
      runner, context, log,
      surface: new SlackSurface(client, config.channel),
      ...(deps.onNotificationFailure ? { onFailure: deps.onNotificationFailure } : {}),
    });
    const actions = new ChatActions({ runner, context, touched: (runId) => this.notifier.mark(runId) });
    const listeners = { runner, actions, log, caller: (user: string, channel: string | undefined) => this.caller(user, channel) };
    registerCommands(this.slack.app, listeners);
    registerClicks(this.slack.app, listeners);
    registerMessages(this.slack.app, listeners);
  }

  async start(): Promise<void> {
    this.slack.start();
    await this.notifier.start();
  }

  health(): ChatHealth {
    return { connection: this.slack.health(), notifications: this.notifier.health() };
  }

  idle(): Promise<void> {
    return this.notifier.idle();
  }

  async close(): Promise<void> {
    await this.slack.close();
    await this.notifier.close();
  }

  /** Only the groups some approval or SOP_ADMINS names are looked up, not every group a person is in. */
  private async caller(userId: string, channelId: string | undefined): Promise<ChatCaller> {
    const named = await namedGroups(this.deps.runner, GROUP_PREFIX, this.deps.admins);
    const groups = named.length ? await this.groups.of(userId, named) : [];
    return {
      actor: { id: `slack:${userId}`, ...(groups.length ? { groups } : {}) },
      source: channelId ? `slack:${channelId}` : "slack",
    };
  }
}
