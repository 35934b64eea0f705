/**
 * Messages in the bot's channels that match a `command` trigger start their SOP; the answer
 * (the run started and its plan, or why not) goes in the message's thread. Edits, joins and
 * other subtypes are not requests, and Bolt already drops the bot's own messages.
 *
 * The answer is the person's only sign that anything happened, so it is never dropped: the
 * work runs in the background (the listener returns at once), any failure still becomes a short
 * answer, and the post is retried through rate limits and outages (deliverWithRetry) rather than
 * tried once by a client built not to retry.
 *
 * Slack sends an event again when its ack was late or lost (HTTP with X-Slack-Retry-Num, an
 * envelope redelivered over the socket), possibly to another bot process: the message's channel
 * and ts name it, and ChatActions lets only the first delivery of that name start anything.
 *
 * The caller gets no groups here: starting a run by trigger depends on no group (only admins'
 * options do, which a trigger never asks for), so an ordinary message costs no lookup.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { App, webApi } from "@slack/bolt";
import type { ChatReply } from "../../src/chat/chat-message.ts";
import { deliverWithRetry } from "../../src/chat/deliver-with-retry.ts";
import { renderMessage } from "./blocks.ts";
import type { ListenerContext } from "./listener-context.ts";
import { deliveryError } from "./slack-surface.ts";
import { plainText } from "./slack-text.ts";

interface Typed {
  channel: string;
  user: string;
  text: string;
  ts: string;
  /** Where the answer goes: the thread the message is in, or its own. */
  thread: string;
}

export class MessageTriggers {
  /** Messages being answered, until the answer is posted or waits for a retry. */
  private readonly handling = new Set<Promise<void>>();
  /** Answers still being delivered, retries included. */
  private readonly delivering = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly ctx: ListenerContext) {}

  register(app: App): void {
    // eslint-disable-next-line @typescript-eslint/require-await -- Bolt's listener type returns a promise; the work runs on, tracked in `handling`
    app.message(async ({ message: m, client }) => {
      if (m.subtype !== undefined || !m.user || !m.text) return;
      const typed = { channel: m.channel, user: m.user, text: plainText(m.text), ts: m.ts, thread: m.thread_ts ?? m.ts };
      const work = this.handle(client, typed).finally(() => this.handling.delete(work));
      this.handling.add(work);
    });
  }

  /** Resolves once every message so far is answered or its answer waits for a retry. */
  async idle(): Promise<void> {
    while (this.handling.size) await Promise.all(this.handling);
  }

  /** Stops the retries and waits for what is under way. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.idle();
    await Promise.all(this.delivering);
  }

  /** Never throws. */
  private async handle(client: webApi.WebClient, typed: Typed): Promise<void> {
    const reply = await this.ctx.actions.message(typed.text, { actor: { id: `slack:${typed.user}` }, source: `slack:${typed.channel}` }, { platform: "slack", id: `${typed.channel}-${typed.ts}` });
    if (reply) await this.answer(client, typed, reply);
  }

  /** Resolves after the first attempt; the retries go on in the background until delivered, given up or closed. */
  private answer(client: webApi.WebClient, typed: Typed, reply: ChatReply): Promise<void> {
    let triedOnce = (): void => undefined;
    const tried = new Promise<void>((resolve) => (triedOnce = resolve));
    const post = async (): Promise<void> => {
      try {
        await client.chat.postMessage({ channel: typed.channel, thread_ts: typed.thread, ...renderMessage(reply.message), unfurl_links: false, unfurl_media: false });
      } catch (err) {
        throw deliveryError(`chat.postMessage to ${typed.channel}`, err);
      } finally {
        triedOnce();
      }
    };
    const pause = (ms: number) => sleep(ms, undefined, { signal: this.stopping.signal });
    const delivery = deliverWithRetry(`Slack: the answer to a message in ${typed.channel}`, post, this.ctx.log, pause)
      .then(() => undefined, () => {
        this.ctx.log.warn({ platform: "slack", channel: typed.channel }, `Slack: the answer to a message in ${typed.channel} was not delivered: the bot stopped`);
      })
      .finally(() => this.delivering.delete(delivery));
    this.delivering.add(delivery);
    return tried;
  }
}
