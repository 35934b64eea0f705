/**
 * Where run notifications go on Slack: chat.postMessage and chat.update through a Web API
 * client built not to retry or queue (see slack-app.ts), so a 429 reaches the notifier at once
 * as a DeliveryError with Slack's Retry-After, and the notifier stays the one outbox. An edit of
 * a message someone deleted fails with MessageGoneError, and the notifier posts it again.
 */
import type { webApi } from "@slack/bolt";
import type { ChatMessage } from "../../src/chat/chat-message.ts";
import { DeliveryError, MessageGoneError, type ChatSurface } from "../../src/chat/notifier.ts";
import type { SopDefinition } from "../../src/core/sop/types.ts";
import { renderMessage } from "./blocks.ts";
import { describeSlackError, isRateLimited, slackErrorCode } from "./slack-errors.ts";

/**
 * A message's id is its `ts`. chat.update only takes channel ids, so a message posted to a
 * channel named by name (`#deploys`, which chat.postMessage accepts) carries the id Slack
 * answered with: `C0DEPLOYS/1700000000.000100`. The ledger keeps it, so edits still work after
 * a restart.
 */
export function messageId(asked: string, answered: string | undefined, ts: string): string {
  return answered && answered !== asked ? `${answered}/${ts}` : ts;
}

export function parseMessageId(id: string, channel: string): { channel: string; ts: string } {
  const slash = id.indexOf("/");
  return slash < 0 ? { channel, ts: id } : { channel: id.slice(0, slash), ts: id.slice(slash + 1) };
}

/**
 * A failed call as a DeliveryError, naming the call and the channel: the notifier logs each cause
 * once and shows the last in /healthz, where "which channel" is what people need to fix it.
 */
export function deliveryError(what: string, err: unknown): DeliveryError {
  return new DeliveryError(`${what}: ${describeSlackError(err)}`, isRateLimited(err) ? err.retryAfter * 1000 : undefined, { cause: err });
}

/**
 * chat.update on a message that is no longer there. `cant_update_message` counts too: the ledger
 * only holds messages this bot posted, so one it may no longer edit was deleted (a deleted thread
 * parent stays as a tombstone) or belongs to an earlier install of the app; either way a fresh
 * post is the repair, and the ledger then holds a message this bot can edit.
 */
const GONE = new Set(["message_not_found", "cant_update_message"]);

async function delivered<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw deliveryError(what, err);
  }
}

export class SlackSurface implements ChatSurface {
  readonly platform = "slack" as const;

  constructor(private readonly client: webApi.WebClient, private readonly defaultChannel: string | undefined) {}

  channelsFor(def: SopDefinition): string[] {
    if (def.notify.slack.length) return def.notify.slack;
    return this.defaultChannel ? [this.defaultChannel] : [];
  }

  async post(channel: string, message: ChatMessage, thread?: string): Promise<string> {
    const threadTs = thread === undefined ? undefined : parseMessageId(thread, channel).ts;
    const res = await delivered(`chat.postMessage to ${channel}`, () => this.client.chat.postMessage({
      channel,
      ...renderMessage(message),
      // A run link must not unfurl into a preview card under every notification.
      unfurl_links: false,
      unfurl_media: false,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    }));
    if (!res.ts) throw new DeliveryError("chat.postMessage answered without a ts");
    return messageId(channel, res.channel, res.ts);
  }

  async update(channel: string, id: string, message: ChatMessage): Promise<void> {
    const ref = parseMessageId(id, channel);
    try {
      await this.client.chat.update({ channel: ref.channel, ts: ref.ts, ...renderMessage(message) });
    } catch (err) {
      const what = `chat.update in ${ref.channel}`;
      if (GONE.has(slackErrorCode(err) ?? "")) throw new MessageGoneError(`${what}: ${describeSlackError(err)}`, undefined, { cause: err });
      throw deliveryError(what, err);
    }
  }
}
