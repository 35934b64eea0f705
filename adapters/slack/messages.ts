/**
 * Messages in the bot's channels that match a `command` trigger start their SOP; the answer
 * (the run started and its plan, or why not) goes in the message's thread. Edits, joins and
 * other subtypes are not requests, and Bolt already drops the bot's own messages.
 *
 * The caller gets no groups here: starting a run by trigger depends on no group (only admins'
 * options do, which a trigger never asks for), so an ordinary message costs no lookup.
 */
import type { App } from "@slack/bolt";
import type { ListenerContext } from "./listener-context.ts";
import { renderMessage } from "./blocks.ts";
import { plainText } from "./slack-text.ts";

export function registerMessages(app: App, ctx: ListenerContext): void {
  app.message(async ({ message, client }) => {
    if (message.subtype !== undefined || !message.user || !message.text) return;
    const caller = { actor: { id: `slack:${message.user}` }, source: `slack:${message.channel}` };
    const reply = await ctx.actions.message(plainText(message.text), caller);
    if (!reply) return;
    await client.chat.postMessage({
      channel: message.channel,
      thread_ts: message.thread_ts ?? message.ts,
      ...renderMessage(reply.message),
      unfurl_links: false,
      unfurl_media: false,
    });
  });
}
