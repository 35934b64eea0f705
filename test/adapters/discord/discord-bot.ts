/** The Discord adapter in-process against a fake Discord, on a runner in a temporary workspace. */
import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "../../../src/app/logger.ts";
import type { SopRunner } from "../../../src/app/sop-runner.ts";
import { DiscordAdapter } from "../../../adapters/discord/index.ts";
import type { GatewayTiming } from "../../../adapters/discord/gateway-connection.ts";
import { DISCORD, FakeDiscord, type FakeDiscordOptions } from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { steps, type Workspace } from "../../helpers/workspace.ts";

export interface LogEntry {
  level: string;
  msg: string;
}

/** A logger that keeps what it was told, to check what an operator would read. */
export function recordingLogger(): Logger & { entries: LogEntry[]; has: (re: RegExp) => boolean } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (_obj: object, msg?: string) => void entries.push({ level, msg: msg ?? "" });
  return { entries, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug"), has: (re) => entries.some((e) => re.test(e.msg)) };
}

export interface BotOptions {
  /** DISCORD_GUILD_ID set (default): guild commands. */
  guild?: boolean;
  /** DISCORD_CHANNEL_ID (default #ops). */
  channelId?: string | null;
  /** Options of the fake started for the bot, or a fake already started (the bot closes it). */
  fake?: FakeDiscordOptions | FakeDiscord;
  /** DISCORD_API_URL instead of the fake's (a dead address). */
  api?: string;
  admins?: string[];
  timing?: Partial<GatewayTiming>;
  /** Wait for the gateway to be connected (default true). */
  connected?: boolean;
}

export class DiscordBot {
  private constructor(
    readonly fake: FakeDiscord,
    readonly runner: SopRunner,
    readonly adapter: DiscordAdapter,
    readonly log: ReturnType<typeof recordingLogger>,
    private readonly http: FastifyInstance,
  ) {}

  static async start(ws: Workspace, o: BotOptions = {}): Promise<DiscordBot> {
    const fake = o.fake instanceof FakeDiscord ? o.fake : await FakeDiscord.start(o.fake);
    const { runner, ledger } = await ws.deployment(o.admins ? { admins: o.admins } : {});
    const http = Fastify();
    const log = recordingLogger();
    const channelId = o.channelId === undefined ? DISCORD.channel : o.channelId;
    const adapter = new DiscordAdapter({
      runner, ledger, http, log,
      context: { runUrl: (id) => `http://bot.test/runs/${id}` },
      config: {
        token: DISCORD.token, applicationId: DISCORD.app, apiUrl: o.api ?? fake.api,
        ...(o.guild === false ? {} : { guildId: DISCORD.guild }),
        ...(channelId ? { channelId } : {}),
      },
      timing: { loginTimeoutMs: 5000, firstRetryMs: 100, maxRetryMs: 500, ...o.timing },
    });
    const bot = new DiscordBot(fake, runner, adapter, log, http);
    await adapter.start();
    if (o.connected !== false) await until("the bot to connect", () => adapter.health().connection === "connected");
    return bot;
  }

  /** Notifications delivered (or waiting for a retry). */
  async settled(): Promise<void> {
    await this.adapter.idle();
  }

  async close(): Promise<void> {
    await this.adapter.close();
    await this.fake.close();
    await this.runner.close();
    await this.http.close();
  }
}

export const PEOPLE = {
  alice: { id: DISCORD.users.alice },
  /** Holds the approvers role. */
  bob: { id: DISCORD.users.bob, roles: [DISCORD.roles.approvers] },
  /** Holds the approvers role and another. */
  carol: { id: DISCORD.users.carol, roles: [DISCORD.roles.operators, DISCORD.roles.approvers] },
  /** No role at all. */
  mallory: { id: DISCORD.users.mallory, roles: [DISCORD.roles.operators] },
} as const;

export const actor = (p: { id: string }) => `discord:${p.id}`;

/** `ship`: a quick build, then a step that waits for the approvers role (or as told). */
export async function addShip(ws: Workspace, o: { minApprovals?: number; priority?: string; manual?: boolean; notify?: string[]; sop?: string; maxConcurrent?: number } = {}): Promise<void> {
  const toml = [
    'description = "Ship the build"',
    ...(o.priority ? [`priority = "${o.priority}"`] : []),
    ...(o.maxConcurrent ? [`max_concurrent = ${o.maxConcurrent}`] : []),
    // A manual step is no approval: without this, supervised mode would ask for one before the run.
    ...(o.manual ? ['execution_mode = "automatic"'] : []),
    "[approval]",
    `approvers = ["discord-role:${DISCORD.roles.approvers}"]`,
    `min_approvals = ${o.minApprovals ?? 1}`,
    ...(o.notify ? ["[notify]", `discord = [${o.notify.map((c) => `"${c}"`).join(", ")}]`] : []),
  ].join("\n");
  const ship = o.manual ? "**Check the dashboard** [manual: true]\nLook at the error rate." : "**Ship** [requires_approval: true]\n```sh\necho shipped\n```";
  await ws.addSop(o.sop ?? "ship", toml, steps("**Build**\n```sh\necho built\n```", ship));
}
