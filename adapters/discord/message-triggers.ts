/**
 * A message in a channel the bot reads may start SOPs through their `command` triggers
 * (`deploy:1.2.3`). The answer (started, with the plan, or why not) is a reply to that message,
 * which always lands where it was asked and needs no thread permissions.
 */
import { Routes, type Message } from "discord.js";
import type { Logger } from "../../src/app/logger.ts";
import type { ChatActions } from "../../src/chat/chat-actions.ts";
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
  try {
    const caller = callerOf(m.author.id, m.member, m.channelId);
    const reply = await ctx.actions.message(m.content, caller);
    if (!reply) return;
    const body = renderMessage(reply.message, { isChannel: ctx.isChannel });
    await m.client.rest.post(Routes.channelMessages(m.channelId), {
      body: { ...body, message_reference: { message_id: m.id, fail_if_not_exists: false } },
    });
  } catch (err) {
    ctx.log.error({ platform: "discord", err: String(err), channel: m.channelId }, `Discord: message trigger failed: ${(err as Error).message}`);
  }
}
