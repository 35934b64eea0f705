/**
 * Answers to the person who typed or clicked, through the response_url Slack gave with the
 * command or the click: it works in channels the bot is not in and on ephemeral messages, and
 * needs no scope. Whatever goes wrong while working out the answer, the person still gets one.
 */
import type { Logger } from "../../src/app/logger.ts";
import { ephemeral, message, type ChatReply } from "../../src/chat/chat-message.ts";
import { renderMessage, type SlackMessage } from "./blocks.ts";
import { DENY_CALLBACK, parseDenyContext } from "./deny-modal.ts";
import { GroupsUnavailable } from "./slack-groups.ts";

export interface ResponseBody extends SlackMessage {
  response_type: "ephemeral" | "in_channel";
  /** Never replace the message clicked: the notifier owns it and edits it itself. */
  replace_original: false;
}

export function responseBody(reply: ChatReply, onlyToCaller = false): ResponseBody {
  return { response_type: onlyToCaller || reply.ephemeral ? "ephemeral" : "in_channel", replace_original: false, ...renderMessage(reply.message) };
}

/**
 * Does `work` and sends its reply (none when it answered otherwise, by opening a form). A failure
 * becomes an ephemeral apology and a log line; groups that cannot be checked become a request to
 * try again, already logged once by SlackGroups.
 */
export async function answer(log: Logger, what: string, send: (reply: ChatReply) => Promise<unknown>, work: () => Promise<ChatReply | undefined>): Promise<void> {
  let reply: ChatReply | undefined;
  try {
    reply = await work();
  } catch (err) {
    reply = err instanceof GroupsUnavailable ? ephemeral(message({ title: err.message, tone: "failure" })) : failed(log, what, err);
  }
  if (!reply) return;
  try {
    await send(reply);
  } catch (err) {
    log.warn({ platform: "slack", err }, `Slack: could not answer the ${what}: ${String(err)}`);
  }
}

function failed(log: Logger, what: string, err: unknown): ChatReply {
  const cause = err instanceof Error ? err.message : String(err);
  log.error({ platform: "slack", err }, `Slack: ${what} failed: ${cause}`);
  return ephemeral(message({ title: `❌ ${what} failed: ${cause}`, tone: "failure", lines: ["The bot's log has the details."] }));
}

/** What Bolt's respond() does, for a form submission that arrives without one. */
export async function postToResponseUrl(url: string | undefined, body: ResponseBody): Promise<void> {
  if (!url) throw new Error("no response_url to answer through");
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
}

/** Where to answer a request without a token: its response_url, or the one a deny form carries. */
export function responseUrlOf(body: unknown): string | undefined {
  const b = body as { response_url?: unknown; view?: { callback_id?: unknown; private_metadata?: unknown } } | undefined;
  if (typeof b?.response_url === "string") return b.response_url;
  if (b?.view?.callback_id === DENY_CALLBACK && typeof b.view.private_metadata === "string") return parseDenyContext(b.view.private_metadata)?.responseUrl;
  return undefined;
}
