/**
 * Discord: slash commands, Approve / Deny buttons, message triggers and run notifications, on
 * the same chat core as Slack. The gateway connection (commands, clicks, messages) and the
 * notifications (channel messages over REST) are independent: notifications keep going while
 * the gateway reconnects, and neither an outage nor a bad token stops the bot.
 */
import { REST, type Client } from "discord.js";
import type { ChatAdapter, ChatAdapterDeps, ChatHealth } from "../../src/chat/chat-adapter.ts";
import { ChatActions } from "../../src/chat/chat-actions.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import type { DiscordConfig } from "../../src/config/config.ts";
import { DiscordSurface } from "./discord-surface.ts";
import { DEFAULT_TIMING, GatewayConnection, type GatewayTiming } from "./gateway-connection.ts";
import { GuildScope } from "./guild-scope.ts";
import { onInteraction } from "./interactions.ts";
import { onMessage } from "./message-triggers.ts";
import { slashCommands } from "./slash-commands.ts";

export const DISCORD_API = "https://discord.com/api";

export interface DiscordAdapterDeps extends ChatAdapterDeps {
  config: DiscordConfig;
  /** Login timeout and retry backoff; tests shorten them. */
  timing?: Partial<GatewayTiming>;
}

export class DiscordAdapter implements ChatAdapter {
  readonly platform = "discord" as const;
  private readonly gateway: GatewayConnection;
  private readonly notifier: ChatNotifier;
  private readonly scope: GuildScope;
  private commandsRegistered = false;

  constructor(private readonly deps: DiscordAdapterDeps) {
    const { config, runner, ledger, log, context } = deps;
    const api = config.apiUrl ?? DISCORD_API;
    const isChannel = (id: string) => id === config.channelId || (this.gateway.current()?.channels.cache.has(id) ?? false);
    // Its own REST client: a 429 throws at once and the notifier waits it out (see DiscordSurface).
    const rest = new REST({ api, rejectOnRateLimit: () => true, retries: 0, timeout: 10_000 });
    const surface = new DiscordSurface({ rest, token: config.token, isChannel, log, ...(config.channelId ? { defaultChannel: config.channelId } : {}) });
    this.notifier = new ChatNotifier({ runner, ledger, surface, context, log, ...(deps.onNotificationFailure ? { onFailure: deps.onNotificationFailure } : {}) });
    const scope = new GuildScope(config.guildId, log);
    this.scope = scope;
    const actions = new ChatActions({ runner, ledger, context, log, touched: (runId) => this.notifier.mark(runId) });
    this.gateway = new GatewayConnection({
      token: config.token, api, log,
      timing: { ...DEFAULT_TIMING, ...deps.timing },
      onInteraction: (i) => onInteraction(i, { actions, runner, log, isChannel, scope }),
      onMessage: (m) => onMessage(m, { actions, log, isChannel, scope }),
      onReady: (client) => this.registerCommands(client),
    });
  }

  async start(): Promise<void> {
    this.scope.warnIfUnscoped();
    // Side by side: a slow store at start must not keep the commands and buttons offline.
    await Promise.all([this.notifier.start(), this.gateway.start()]);
  }

  health(): ChatHealth {
    return { connection: this.gateway.health(), notifications: this.notifier.health() };
  }

  idle(): Promise<void> {
    return this.notifier.idle();
  }

  async close(): Promise<void> {
    await this.gateway.close();
    await this.notifier.close();
  }

  /** Guild commands appear at once; global ones can take up to an hour. Once per process. */
  private async registerCommands(client: Client<true>): Promise<void> {
    if (this.commandsRegistered) return;
    const { guildId } = this.deps.config;
    try {
      if (guildId) await client.application.commands.set(slashCommands("guild"), guildId);
      else await client.application.commands.set(slashCommands("global"));
      this.commandsRegistered = true;
      this.deps.log.info({ platform: "discord", guild: guildId ?? "global" }, `Discord: slash commands /approve /deny /sop registered ${guildId ? `in guild ${guildId}` : "globally (they may take up to an hour to appear)"}`);
    } catch (err) {
      this.deps.log.warn({ platform: "discord", err }, `Discord: cannot register the slash commands (${(err as Error).message}); will try again at the next connection, or run npm run discord:register`);
    }
  }
}
