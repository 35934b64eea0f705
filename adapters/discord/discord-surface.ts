/**
 * Where run notifications go on Discord: channel messages over REST, on a REST client of their
 * own that never waits out or retries a rate limit, so that the notifier stays the one outbox:
 * a 429 comes back at once as a DeliveryError with Discord's retry-after and blocks nothing.
 *
 * Step details go in a thread started from the run's progress message, as on Slack, so a run
 * costs the channel a handful of messages. A thread started from a message has that message's
 * id, so no lookup is needed. Where the bot may not start threads, the details are posted as
 * replies to the progress message instead, which is always allowed.
 */
import { DiscordAPIError, HTTPError, RateLimitError, Routes, type REST, type RESTPostAPIChannelMessageResult } from "discord.js";
import type { Logger } from "../../src/app/logger.ts";
import type { ChatMessage } from "../../src/chat/chat-message.ts";
import { DeliveryError, MessageGoneError, type ChatSurface } from "../../src/chat/notifier.ts";
import type { SopDefinition } from "../../src/core/sop/types.ts";
import type { IsChannel } from "./discord-text.ts";
import { renderMessage, type DiscordMessageBody } from "./render-message.ts";

export interface DiscordSurfaceOptions {
  rest: REST;
  token: string;
  /** DISCORD_CHANNEL_ID: where an SOP without `[notify] discord` is announced. */
  defaultChannel?: string;
  isChannel: IsChannel;
  log: Logger;
}

/** Discord's JSON error codes the surface reacts to. */
const THREAD_EXISTS = 160004;
const UNKNOWN_MESSAGE = 10008;
const CANNOT_THREAD = new Set([50001, 50013, 50024, UNKNOWN_MESSAGE]);

/** What the operator can do about a refusal; the notifier keeps retrying meanwhile. */
const HINTS: Record<number, string> = {
  10003: "the channel (or thread) does not exist, or the bot cannot see it: check the channel id in DISCORD_CHANNEL_ID or [notify] discord, and that the bot is in that server",
  50001: "the bot has no access to the channel: give it View Channel there",
  50013: "the bot lacks a permission in the channel: give it Send Messages, Embed Links and Read Message History there (and Send Messages in Threads for step details)",
  50035: "Discord refused the message's content, which sop-runner should have kept within Discord's limits: please report this line",
};

const MAX_TITLES = 1000;

export class DiscordSurface implements ChatSurface {
  readonly platform = "discord" as const;
  private readonly threads = new Set<string>();
  private readonly noThreads = new Set<string>();
  /** Titles of the messages posted, to name the thread started from one. */
  private readonly titles = new Map<string, string>();

  constructor(private readonly o: DiscordSurfaceOptions) {}

  channelsFor(def: SopDefinition): string[] {
    if (def.notify.discord.length) return def.notify.discord;
    return this.o.defaultChannel ? [this.o.defaultChannel] : [];
  }

  async post(channel: string, message: ChatMessage, thread?: string): Promise<string> {
    const body = renderMessage(message, { ping: true, isChannel: this.o.isChannel });
    if (thread === undefined) {
      const id = await this.create(channel, body);
      this.remember(id, message.title);
      return id;
    }
    if (await this.threadFrom(channel, thread)) {
      try {
        return `${thread}/${await this.create(thread, body)}`;
      } catch (err) {
        // The thread exists but the bot may not write in it (no Send Messages in Threads):
        // replies, as where threads cannot be started, rather than retrying forever.
        const cause = err instanceof DeliveryError ? err.cause : err;
        if (!(cause instanceof DiscordAPIError && (cause.code === 50001 || cause.code === 50013))) throw err;
        this.cannotThread(channel, cause);
      }
    }
    return this.create(channel, { ...body, message_reference: { message_id: thread, fail_if_not_exists: false } });
  }

  private cannotThread(channel: string, err: DiscordAPIError): void {
    this.noThreads.add(channel);
    this.o.log.warn({ platform: "discord", channel, code: err.code }, `Discord: cannot use threads in channel ${channel} (${err.message}); step details are posted as replies there. Grant the bot Create Public Threads and Send Messages in Threads to keep the channel tidy`);
  }

  async update(channel: string, id: string, message: ChatMessage): Promise<void> {
    // Messages in a thread are recorded as `thread/message`: the thread is their channel.
    const [where, messageId] = id.includes("/") ? (id.split("/") as [string, string]) : [channel, id];
    const body = renderMessage(message, { edit: true, isChannel: this.o.isChannel });
    try {
      await this.rest().patch(Routes.channelMessage(where, messageId), { body });
    } catch (err) {
      // Someone deleted it: the notifier posts it again rather than editing nothing forever.
      if (err instanceof DiscordAPIError && err.code === UNKNOWN_MESSAGE) {
        throw new MessageGoneError(`Discord: message ${messageId} in ${where} was deleted; posting it again`, undefined, { cause: err });
      }
      throw deliveryError(`edit message ${messageId} in ${where}`, err);
    }
  }

  private async create(channel: string, body: DiscordMessageBody & { message_reference?: object }): Promise<string> {
    const posted = await this.call(`post in ${channel}`, () => this.rest().post(Routes.channelMessages(channel), { body })) as RESTPostAPIChannelMessageResult;
    return posted.id;
  }

  /** True once the thread of `parent` exists; false where threads cannot be started. */
  private async threadFrom(channel: string, parent: string): Promise<boolean> {
    if (this.threads.has(parent)) return true;
    if (this.noThreads.has(channel)) return false;
    try {
      const name = (this.titles.get(parent) ?? "Step details").slice(0, 100);
      await this.rest().post(Routes.threads(channel, parent), { body: { name, auto_archive_duration: 1440 } });
    } catch (err) {
      if (err instanceof DiscordAPIError && typeof err.code === "number" && CANNOT_THREAD.has(err.code)) {
        this.cannotThread(channel, err);
        return false;
      }
      // Started before (by this bot before a restart, or a person): post in it.
      if (!(err instanceof DiscordAPIError && err.code === THREAD_EXISTS)) throw deliveryError("start a thread", err);
    }
    this.threads.add(parent);
    return true;
  }

  /** A 401 clears the token of a REST client; set it on every call so a fixed token works again. */
  private rest(): REST {
    return this.o.rest.setToken(this.o.token);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw deliveryError(what, err);
    }
  }

  private remember(id: string, title: string): void {
    this.titles.set(id, title);
    const oldest = this.titles.keys().next();
    if (this.titles.size > MAX_TITLES && !oldest.done) this.titles.delete(oldest.value);
  }
}

/** What went wrong, in words an operator can act on; a rate limit carries when to try again. */
export function deliveryError(what: string, err: unknown): DeliveryError {
  if (err instanceof RateLimitError) {
    return new DeliveryError(`Discord rate limit on ${err.route}: retry in ${Math.ceil(err.retryAfter)} ms`, err.retryAfter, { cause: err });
  }
  if (err instanceof DiscordAPIError) {
    if (err.status === 401) return new DeliveryError(`Discord: cannot ${what}: the bot token was refused (401); check DISCORD_TOKEN`, undefined, { cause: err });
    const hint = typeof err.code === "number" ? HINTS[err.code] : undefined;
    // A form error lists each bad field on a line of its own: one log line keeps them together.
    return new DeliveryError(`Discord: cannot ${what}: ${err.message.replace(/\s*\n\s*/g, "; ")} (code ${err.code}, HTTP ${err.status})${hint ? `: ${hint}` : ""}`, undefined, { cause: err });
  }
  if (err instanceof HTTPError) return new DeliveryError(`Discord: cannot ${what}: HTTP ${err.status} ${err.message}`, undefined, { cause: err });
  const e = err as { message?: string; code?: string; name?: string };
  const cause = e.name === "AbortError" ? "no answer in time" : e.code ?? e.message ?? String(err);
  return new DeliveryError(`Discord: cannot ${what}: ${cause}`, undefined, { cause: err });
}
