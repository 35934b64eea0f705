/**
 * Slash commands, autocomplete, button clicks and modal submits, turned into ChatActions calls.
 * Discord wants an answer within 3 seconds: whatever reads or writes the store is deferred
 * first and answered by editing the deferred reply. A click is answered privately; the request
 * message it came from is brought up to date by the notifier, never here, so that every message
 * of a run has one writer.
 */
import {
  ButtonStyle, ComponentType, MessageFlags, TextInputStyle,
  type AutocompleteInteraction, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction,
  type APIModalInteractionResponseCallbackData, type ModalSubmitInteraction,
} from "discord.js";
import type { Logger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { ButtonTarget } from "../../src/chat/button-id.ts";
import type { ChatActions } from "../../src/chat/chat-actions.ts";
import { message, type ChatMessage } from "../../src/chat/chat-message.ts";
import type { ChatCommand } from "../../src/chat/command-text.ts";
import { shortId } from "../../src/chat/run-messages.ts";
import { suggestions } from "./autocomplete.ts";
import { CANCEL_ID, clickId, parseClickId } from "./click-id.ts";
import { callerOf } from "./discord-identity.ts";
import { clip } from "./discord-text.ts";
import type { GuildScope } from "./guild-scope.ts";
import { renderMessage } from "./render-message.ts";
import { commandOf } from "./slash-commands.ts";

export interface InteractionContext {
  actions: ChatActions;
  runner: SopRunner;
  log: Logger;
  isChannel: (id: string) => boolean;
  scope: GuildScope;
}

/**
 * Kinds answered in the channel when they succeed; the rest only to the person who asked. Not
 * `run`: a public answer shows the command with its options, and the variables typed may be secret.
 */
const PUBLIC: ReadonlySet<ChatCommand["kind"]> = new Set(["approve", "deny", "cancel"]);
/** Kinds that answer from memory, in time without a deferral. */
const INSTANT: ReadonlySet<ChatCommand["kind"]> = new Set(["help", "list", "plan"]);

const REASON_INPUT = "reason";

export async function onInteraction(i: Interaction, ctx: InteractionContext): Promise<void> {
  try {
    const refused = ctx.scope.refusal(i.inGuild() ? i.guildId : null);
    if (refused) await refuse(i, refused);
    else if (i.isAutocomplete()) await autocomplete(i, ctx);
    else if (i.isChatInputCommand()) await command(i, ctx);
    else if (i.isButton()) await button(i, ctx);
    else if (i.isModalSubmit()) await modalSubmit(i, ctx);
  } catch (err) {
    ctx.log.error({ platform: "discord", err, interaction: i.id }, `Discord: interaction failed: ${(err as Error).message}`);
    await apologize(i);
  }
}

/** Before anything reads or writes the store: a refused person learns nothing about the runs. */
async function refuse(i: Interaction, why: string): Promise<void> {
  if (i.isAutocomplete()) await i.respond([]);
  else if (i.isRepliable()) await i.reply({ content: why, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

async function autocomplete(i: AutocompleteInteraction, ctx: InteractionContext): Promise<void> {
  const focused = i.options.getFocused(true);
  const sop = i.options.getString("name") ?? undefined;
  await i.respond(await suggestions(ctx.runner, { option: focused.name, typed: focused.value, ...(sop ? { sop } : {}) }));
}

async function command(i: ChatInputCommandInteraction, ctx: InteractionContext): Promise<void> {
  const parsed = commandOf(i);
  if (!parsed.ok) {
    await i.reply({ ...payload(ctx, failure(parsed.error)), flags: MessageFlags.Ephemeral });
    return;
  }
  const cmd = parsed.command;
  const caller = callerOf(i.user.id, i.member, i.channelId);
  if (INSTANT.has(cmd.kind)) {
    const reply = await ctx.actions.command(cmd, caller);
    await i.reply({ ...payload(ctx, reply.message), ...(reply.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) });
    return;
  }
  const inPublic = PUBLIC.has(cmd.kind);
  await i.deferReply(inPublic ? {} : { flags: MessageFlags.Ephemeral });
  const reply = await ctx.actions.command(cmd, caller);
  if (reply.ephemeral && inPublic) {
    // A refusal is for the caller only, and a deferred reply cannot become ephemeral: swap it.
    await i.deleteReply();
    await i.followUp({ ...payload(ctx, reply.message), flags: MessageFlags.Ephemeral });
    return;
  }
  await i.editReply(payload(ctx, reply.message));
}

async function button(i: ButtonInteraction, ctx: InteractionContext): Promise<void> {
  if (i.customId === CANCEL_ID) {
    await i.update({ ...payload(ctx, message({ title: "Not approved; nothing changed.", tone: "neutral" })), components: [] });
    return;
  }
  const click = parseClickId(i.customId);
  if (!click) return;
  const caller = callerOf(i.user.id, i.member, i.channelId);
  // A form for a reason that could not count would waste the person's time: the engine says why at once.
  const waiting = click.target.action === "deny" ? await ctx.actions.reasonWorthAsking(click.target, caller) : undefined;
  if (waiting) {
    await i.showModal(reasonModal(waiting.button, buttonLabel(i)));
    return;
  }
  if (click.mode === "ask") {
    // A request's title says what is approved; a "which run?" choice's title would only ask again.
    const requestTitle = click.target.checkpoint ? i.message.embeds[0]?.title ?? undefined : undefined;
    await i.reply({ ...areYouSure(ctx, click.target, click.buttonId, requestTitle), flags: MessageFlags.Ephemeral });
    return;
  }
  if (click.mode === "confirmed") {
    // The click came from the private "Are you sure?": it becomes the answer.
    await i.deferUpdate();
    const reply = await ctx.actions.click(click.target, caller);
    await i.editReply({ ...payload(ctx, reply.message), components: [] });
    return;
  }
  await i.deferReply({ flags: MessageFlags.Ephemeral });
  const reply = await ctx.actions.click(click.target, caller);
  await i.editReply(payload(ctx, reply.message));
}

async function modalSubmit(i: ModalSubmitInteraction, ctx: InteractionContext): Promise<void> {
  const click = parseClickId(i.customId);
  if (!click) return;
  const reason = i.fields.getTextInputValue(REASON_INPUT).trim();
  await i.deferReply({ flags: MessageFlags.Ephemeral });
  const caller = callerOf(i.user.id, i.member, i.channelId);
  const reply = await ctx.actions.click(click.target, caller, reason || undefined);
  await i.editReply(payload(ctx, reply.message));
}

/** Deny and Failed end a run: Discord's form asks why, and the reason goes to the audit. */
function reasonModal(customId: string, label: string): APIModalInteractionResponseCallbackData {
  const failed = label.toLowerCase() === "failed";
  return {
    custom_id: customId,
    title: clip(failed ? "Mark the step failed" : `${label}: why?`, 45),
    components: [{
      type: ComponentType.Label,
      label: failed ? "What went wrong?" : "Reason (kept in the audit)",
      component: { type: ComponentType.TextInput, custom_id: REASON_INPUT, style: TextInputStyle.Paragraph, required: true, min_length: 1, max_length: 1000 },
    }],
  };
}

function buttonLabel(i: ButtonInteraction): string {
  const c = i.component as { label?: string | null } | undefined;
  return c?.label ?? "Deny";
}

function areYouSure(ctx: InteractionContext, target: ButtonTarget, buttonId: string, requestTitle: string | undefined) {
  const asked = message({
    title: "Are you sure?",
    tone: "waiting",
    lines: [
      ...(requestTitle ? [requestTitle] : []),
      `This SOP is critical. Approve ${target.checkpoint ? `\`${target.checkpoint}\` of ` : ""}run ${shortId(target.runId)}?`,
    ],
  });
  return {
    ...payload(ctx, asked),
    components: [{
      type: ComponentType.ActionRow,
      components: [
        { type: ComponentType.Button, custom_id: clickId(buttonId, "confirmed"), label: "Approve", style: ButtonStyle.Success },
        { type: ComponentType.Button, custom_id: CANCEL_ID, label: "Cancel", style: ButtonStyle.Secondary },
      ],
    }],
  };
}

/** A ChatMessage as a reply; a reply never pings, and an empty content is left out. */
function payload(ctx: InteractionContext, m: ChatMessage) {
  const body = renderMessage(m, { isChannel: ctx.isChannel });
  return { ...(body.content ? { content: body.content } : {}), embeds: body.embeds, components: body.components, allowedMentions: { parse: [] as const } };
}

const failure = (title: string): ChatMessage => message({ title, tone: "failure", lines: ["`/sop help` lists the commands."] });

async function apologize(i: Interaction): Promise<void> {
  try {
    if (i.isAutocomplete()) {
      if (!i.responded) await i.respond([]);
      return;
    }
    if (!i.isRepliable()) return;
    const content = "Something went wrong on the bot's side; its log has the details.";
    if (i.deferred || i.replied) await i.editReply({ content, embeds: [], components: [] });
    else await i.reply({ content, flags: MessageFlags.Ephemeral });
  } catch {
    // The interaction expired or Discord is away: nothing more to tell.
  }
}
