/**
 * Answers to the person who typed or clicked, through the response_url Slack gave with the
 * command or the click: it works in channels the bot is not in and on ephemeral messages, and
 * needs no scope. Whatever goes wrong while working out the answer, the person still gets one.
 */
import type { Logger } from "../../src/app/logger.ts";
import { ephemeral, message, type ChatReply } from "../../src/chat/chat-message.ts";
import { renderMessage, type SlackMessage } from "./blocks.ts";

export interface ResponseBody extends SlackMessage {
  response_type: "ephemeral" | "in_channel";
  /** Never replace the message clicked: the notifier owns it and edits it itself. */
  replace_original: false;
}

export function responseBody(reply: ChatReply, onlyToCaller = false): ResponseBody {
  return { response_type: onlyToCaller || reply.ephemeral ? "ephemeral" : "in_channel", replace_original: false, ...renderMessage(reply.message) };
}

/** Does `work` and sends its reply; a failure becomes an ephemeral apology and a log line. */
export async function answer(log: Logger, what: string, send: (reply: ChatReply) => Promise<unknown>, work: () => Promise<ChatReply>): Promise<void> {
  let reply: ChatReply;
  try {
    reply = await work();
  } catch (err) {
    const cause = err instanceof Error ? err.message : String(err);
    log.error({ platform: "slack", err: cause }, `Slack: ${what} failed: ${cause}`);
    reply = ephemeral(message({ title: `❌ ${what} failed: ${cause}`, tone: "failure", lines: ["The bot's log has the details."] }));
  }
  try {
    await send(reply);
  } catch (err) {
    log.warn({ platform: "slack", err: String(err) }, `Slack: could not answer the ${what}: ${String(err)}`);
  }
}

/** What Bolt's respond() does, for a form submission that arrives without one. */
export async function postToResponseUrl(url: string | undefined, body: ResponseBody): Promise<void> {
  if (!url) throw new Error("no response_url to answer through");
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
}
