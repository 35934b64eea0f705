/**
 * Which servers the bot answers in. Starting and approving runs is only as safe as the server it
 * happens in: its members, its roles, its channel permissions. With DISCORD_GUILD_ID set the bot
 * serves that server alone, whatever other server it finds itself in; without it, any server it
 * has been invited to, which is why the README asks to turn Public Bot off. Direct messages are
 * never served: they carry no roles, and the commands are registered for servers only.
 */
import type { Logger } from "../../src/app/logger.ts";

export const OTHER_SERVER = "This bot serves another server.";
export const NOT_IN_DMS = "sop-runner works in its server only, not in direct messages.";

export class GuildScope {
  /** Servers already reported: a stranger pressing a button a hundred times is one log line. */
  private readonly reported = new Set<string>();

  constructor(private readonly guildId: string | undefined, private readonly log: Logger) {}

  /** Why a person in `guildId` (null: a direct message) is not served here, or undefined when they are. */
  refusal(guildId: string | null): string | undefined {
    if (guildId === null) return NOT_IN_DMS;
    if (this.guildId === undefined || guildId === this.guildId) return undefined;
    if (!this.reported.has(guildId)) {
      this.reported.add(guildId);
      this.log.warn({ platform: "discord", guild: guildId }, `Discord: ignoring server ${guildId}: DISCORD_GUILD_ID is ${this.guildId}. Remove the bot from that server, and turn off Public Bot in the Developer Portal so nobody else can invite it`);
    }
    return OTHER_SERVER;
  }

  /** Said once at start: without DISCORD_GUILD_ID, nothing limits who can use the bot but who can invite it. */
  warnIfUnscoped(): void {
    if (this.guildId !== undefined) return;
    this.log.warn({ platform: "discord" }, "Discord: DISCORD_GUILD_ID is not set: any server the bot is invited to can use it: its members can start runs there with the commands and message triggers. Set DISCORD_GUILD_ID to your server's id, and turn off Public Bot in the Developer Portal");
  }
}
