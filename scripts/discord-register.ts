/**
 * `npm run discord:register`: registers /approve, /deny and /sop with Discord without starting
 * the bot (which also registers them at every start). With DISCORD_GUILD_ID they are guild
 * commands and appear at once; without it they are global and may take up to an hour.
 * Reads `.env` and the environment as `sop serve` does.
 */
import { DiscordAPIError, REST, Routes } from "discord.js";
import { DISCORD_API } from "../adapters/discord/index.ts";
import { slashCommands } from "../adapters/discord/slash-commands.ts";
import { ConfigError, readConfig, type DiscordConfig } from "../src/config/config.ts";
import { withDotEnv } from "../src/config/dot-env.ts";

const HINTS: Record<number, string> = {
  0: "the bot token was refused: check DISCORD_TOKEN (Developer Portal → Bot → Reset Token)",
  10002: "no such application: check DISCORD_APPLICATION_ID (Developer Portal → General Information → Application ID)",
  10004: "no such guild: check DISCORD_GUILD_ID (right-click the server → Copy Server ID, with Developer Mode on)",
  50001: "the application is not in that guild: invite it with the scopes bot and applications.commands",
};

async function register(discord: DiscordConfig): Promise<number> {
  const rest = new REST({ api: discord.apiUrl ?? DISCORD_API }).setToken(discord.token);
  const where = discord.guildId ? `in guild ${discord.guildId}` : "globally";
  const route = discord.guildId ? Routes.applicationGuildCommands(discord.applicationId, discord.guildId) : Routes.applicationCommands(discord.applicationId);
  try {
    const registered = await rest.put(route, { body: slashCommands(discord.guildId ? "guild" : "global") }) as { name: string }[];
    process.stdout.write(`registered ${registered.map((c) => `/${c.name}`).join(", ")} ${where}${discord.guildId ? "" : "; global commands may take up to an hour to appear"}\n`);
    return 0;
  } catch (err) {
    const hint = err instanceof DiscordAPIError && typeof err.code === "number" ? HINTS[err.code] : undefined;
    process.stderr.write(`discord:register: cannot register the commands ${where}: ${(err as Error).message}${hint ? `\n  ${hint}` : ""}\n`);
    return 1;
  }
}

async function main(): Promise<number> {
  try {
    const { discord } = readConfig(withDotEnv(process.env, process.cwd()), process.cwd());
    if (discord) return await register(discord);
    process.stderr.write("discord:register: set DISCORD_TOKEN and DISCORD_APPLICATION_ID (in the environment or .env), and DISCORD_GUILD_ID for commands that appear at once\n");
    return 2;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`discord:register: ${err.message}\n`);
    return 2;
  }
}

process.exitCode = await main();
