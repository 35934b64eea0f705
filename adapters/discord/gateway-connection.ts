/**
 * The bot's connection to the Discord gateway, kept up whatever Discord does. discord.js resumes
 * and reconnects a session by itself; this covers what it does not: a login that fails or never
 * completes (an outage, a revoked token, an unreachable gateway) is retried with backoff, each
 * time with a new Client, because a Client whose login failed never becomes ready again; a
 * session the library gives up on (an unrecoverable close code) starts over the same way. The
 * privileged Message Content intent is asked for, and dropped if the application may not have it:
 * everything but message triggers works without it.
 */
import { Client, Events, GatewayIntentBits, type Interaction, type Message } from "discord.js";
import type { Logger } from "../../src/app/logger.ts";

export interface GatewayTiming {
  /** Login and the first READY + guilds must complete within this, or the attempt starts over. */
  loginTimeoutMs: number;
  firstRetryMs: number;
  maxRetryMs: number;
}

export const DEFAULT_TIMING: GatewayTiming = { loginTimeoutMs: 30_000, firstRetryMs: 1000, maxRetryMs: 60_000 };

export interface GatewayOptions {
  token: string;
  /** REST base, `…/api`; the gateway's address comes from GET /gateway/bot. */
  api: string;
  log: Logger;
  timing: GatewayTiming;
  onInteraction: (i: Interaction) => Promise<void>;
  onMessage: (m: Message) => Promise<void>;
  /** Each time a client is connected and ready (the first time, or after starting over). */
  onReady: (client: Client<true>) => Promise<void>;
}

type Attempt = "connected" | "retry-now" | "failed";

const DISALLOWED_INTENTS = 4014;
const CLOSE_CODES: Record<number, string> = {
  4004: "authentication failed: check DISCORD_TOKEN",
  4010: "invalid shard", 4011: "sharding required", 4012: "invalid API version",
  4013: "invalid intents", 4014: "disallowed intents",
};

export class GatewayConnection {
  private client: Client | undefined;
  private status = "connecting";
  private messageContent = true;
  private closed = false;
  private lastFailure: string | undefined;
  private announced = false;
  /** Resolves when the library stops reconnecting the current client's session. */
  private lost: Promise<void> = Promise.resolve();
  private giveUp: () => void = () => {};
  private stop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stop = resolve));
  private loop: Promise<void> | undefined;

  constructor(private readonly o: GatewayOptions) {}

  /** Resolves after the first attempt, connected or not; later attempts go on in the background. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.loop = this.run(resolve);
    });
  }

  /** `connected`, `connecting`, or `error: …` with the cause. */
  health(): string {
    return this.status;
  }

  /** The client while it is logged in: its cache knows the guilds' channels and roles. */
  current(): Client | undefined {
    return this.client?.isReady() ? this.client : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    const client = this.client;
    this.client = undefined;
    if (client) await dispose(client);
    await this.loop;
  }

  private async run(attempted: () => void): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const result = await this.attempt();
      attempted();
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may set it while attempt() awaits; the narrowing from the loop test does not know
      if (this.closed) break;
      if (result === "connected") {
        failures = 0;
        await this.untilGivenUp();
      } else if (result === "failed") {
        await this.pause(Math.min(this.o.timing.maxRetryMs, this.o.timing.firstRetryMs * 2 ** failures++));
      }
    }
  }

  private async attempt(): Promise<Attempt> {
    const { log, timing, token, api } = this.o;
    const client = new Client({
      intents: this.messageContent ? [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent] : [GatewayIntentBits.Guilds],
      rest: { api },
      allowedMentions: { parse: [] },
    });
    this.client = client;
    this.lost = new Promise((resolve) => (this.giveUp = resolve));
    const closeCode = this.watch(client);
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    const timeout = timer(timing.loginTimeoutMs);
    try {
      // login() resolves on READY; the client is ready once the guilds have arrived too.
      const outcome = await Promise.race([
        Promise.all([client.login(token), ready]).then(() => "ready" as const),
        timeout.done.then(() => "timeout" as const),
        this.stopped.then(() => "closed" as const),
      ]);
      if (outcome === "closed") return "failed";
      if (outcome === "timeout") throw new Error(`no answer from the gateway within ${Math.round(timing.loginTimeoutMs / 1000)} s`);
    } catch (err) {
      if (this.client === client) this.client = undefined;
      await dispose(client);
      if (this.closed) return "failed";
      if (this.messageContent && (closeCode() === DISALLOWED_INTENTS || /disallowed intents/i.test(String(err)))) {
        this.messageContent = false;
        this.status = "connecting";
        log.warn({ platform: "discord" }, "Discord: message triggers are off: the bot may not use the Message Content intent. Enable it in the Developer Portal (Bot → Privileged Gateway Intents → Message Content Intent), then restart sop-runner; commands and buttons work meanwhile");
        return "retry-now";
      }
      this.failed(describeFailure(err, closeCode(), api));
      return "failed";
    } finally {
      timeout.cancel();
    }
    this.connected(client);
    await this.o.onReady(client as Client<true>);
    return "connected";
  }

  /** Health from the shard's own events; returns the close code of the last disconnect. */
  private watch(client: Client): () => number | undefined {
    const { log } = this.o;
    let code: number | undefined;
    const mine = () => this.client === client;
    client.on(Events.Error, (err) => log.error({ platform: "discord", err }, `Discord: client error: ${err.message}`));
    client.on(Events.ShardError, (err) => log.debug({ platform: "discord", err }, `Discord: gateway error: ${err.message}`));
    client.on(Events.ShardReconnecting, () => {
      if (mine() && client.isReady()) this.status = "connecting";
    });
    const up = () => {
      if (mine() && client.isReady()) this.connected(client);
    };
    client.on(Events.ShardResume, up);
    client.on(Events.ShardReady, up);
    // The library stops reconnecting after these: start over with a new client.
    client.on(Events.ShardDisconnect, (event) => {
      code = event.code;
      if (!mine() || !client.isReady()) return;
      this.failed(`gateway closed the session (${event.code}${CLOSE_CODES[event.code] ? `: ${CLOSE_CODES[event.code]}` : ""})`);
      this.giveUp();
    });
    // Listeners never throw into the library: an async listener's rejection would reach 'error'.
    client.on(Events.InteractionCreate, (i) => {
      if (mine()) void this.o.onInteraction(i).catch((err: unknown) => log.error({ platform: "discord", err }, "Discord: interaction failed"));
    });
    client.on(Events.MessageCreate, (m) => {
      if (mine() && this.messageContent) void this.o.onMessage(m).catch((err: unknown) => log.error({ platform: "discord", err }, "Discord: message failed"));
    });
    return () => code;
  }

  private connected(client: Client): void {
    // Said at the first connection and after a failure; a resume is routine.
    if ((!this.announced || this.lastFailure !== undefined) && client.user) {
      this.announced = true;
      this.o.log.info({ platform: "discord", user: client.user.id, guilds: client.guilds.cache.size }, `Discord: connected as ${client.user.tag} (${client.guilds.cache.size} guild${client.guilds.cache.size === 1 ? "" : "s"})${this.messageContent ? "" : "; message triggers off"}`);
    }
    this.status = "connected";
    this.lastFailure = undefined;
  }

  private failed(cause: string): void {
    this.status = `error: ${cause}`;
    // Once per cause: an outage retried every minute must not flood the log.
    if (cause !== this.lastFailure) this.o.log.warn({ platform: "discord", err: cause }, `Discord: not connected, will retry: ${cause}`);
    this.lastFailure = cause;
  }

  private async untilGivenUp(): Promise<void> {
    await Promise.race([this.lost, this.stopped]);
    const client = this.client;
    this.client = undefined;
    if (client) await dispose(client);
  }

  private async pause(ms: number): Promise<void> {
    const t = timer(ms);
    await Promise.race([t.done, this.stopped]);
    t.cancel();
  }
}

function describeFailure(err: unknown, closeCode: number | undefined, api: string): string {
  if (closeCode !== undefined && CLOSE_CODES[closeCode]) return `gateway refused the bot (${closeCode}: ${CLOSE_CODES[closeCode]})`;
  const e = err as { code?: unknown; message?: string; status?: number };
  if (e.code === "TokenInvalid" || e.status === 401) return "the bot token was refused (401): check DISCORD_TOKEN";
  if (typeof e.code === "string" && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|UND_ERR)/.test(e.code)) return `cannot reach Discord at ${api} (${e.code})`;
  if (typeof e.status === "number") return `Discord answered HTTP ${e.status} at login`;
  return e.message ?? String(err);
}

/** Race the library's destroy: it can hang while a connection is half-made. */
async function dispose(client: Client): Promise<void> {
  const t = timer(5000);
  await Promise.race([client.destroy().catch(() => undefined), t.done]);
  t.cancel();
}

function timer(ms: number): { done: Promise<void>; cancel: () => void } {
  let handle: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => (handle = setTimeout(resolve, ms)));
  return { done, cancel: () => clearTimeout(handle) };
}
