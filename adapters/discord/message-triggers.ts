/**
 * A message in a channel the bot reads may start SOPs through their `command` triggers
 * (`deploy:1.2.3`). The answer (started, with the plan, or why not) is a reply to that message,
 * which always lands where it was asked and needs no thread permissions.
 */
import { Routes, type Message } from "discord.js";
import type { Logger } from "../../src/app/logger.ts";
import type { ChatActions } from "../../src/chat/chat-actions.ts";
import { deliverWithRetry } from "../../src/chat/deliver-with-retry.ts";
import { callerOf } from "./discord-identity.ts";
import type { IsChannel } from "./discord-text.ts";
import type { GuildScope } from "./guild-scope.ts";
import { renderMessage } from "./render-message.ts";

export interface MessageContext {
  actions: ChatActions;
  log: Logger;
  isChannel: IsChannel;
  scope: GuildScope;
}

export async function onMessage(m: Message, ctx: MessageContext): Promise<void> {
  // Bots (this one included) and webhooks never trigger: no loops, no spoofed requests.
  if (m.author.bot || m.webhookId || m.system || !m.inGuild() || !m.content) return;
  // Another server's messages get no answer at all: a reply would tell them the bot listens.
  if (ctx.scope.refusal(m.guildId)) return;
  // Two bot processes on one token both receive the message: the first to claim it answers.
  const reply = await ctx.actions.message(m.content, callerOf(m.author.id, m.member, m.channelId), { platform: "discord", id: `${m.channelId}-${m.id}` });
  if (!reply) return;
  const body = { ...renderMessage(reply.message, { isChannel: ctx.isChannel }), message_reference: { message_id: m.id, fail_if_not_exists: false } };
  // The answer is the person's only sign that anything happened: retried through outages.
  void deliverWithRetry(`Discord: the answer to a message in ${m.channelId}`, () => m.client.rest.post(Routes.channelMessages(m.channelId), { body }), ctx.log);
}
