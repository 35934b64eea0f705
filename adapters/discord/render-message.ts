/**
 * A neutral ChatMessage as a Discord message: one embed (title, lines, fields, colour, footer,
 * link) and a row of buttons. Discord refuses a whole message when one limit is exceeded, and a
 * refused notification would be retried forever, so every part is cut to its limit here.
 *
 * Pings: mentions inside an embed never notify anyone. The only ping is on the first post of a
 * request that waits for people: the approver roles it names go in the content, so the people
 * who can decide are told once. Edits and every other message ping no one.
 */
import {
  ButtonStyle, ComponentType,
  type APIActionRowComponent, type APIAllowedMentions, type APIButtonComponentWithCustomId, type APIEmbed, type APIEmbedField,
} from "discord.js";
import type { ChatButton, ChatMessage, Tone } from "../../src/chat/chat-message.ts";
import { clickId } from "./click-id.ts";
import { clip, discordMarkdown, type IsChannel } from "./discord-text.ts";

export interface DiscordMessageBody {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  allowed_mentions: APIAllowedMentions;
}

export interface RenderOptions {
  isChannel?: IsChannel;
  /** First post of a message: the approver roles of a pending request are pinged. */
  ping?: boolean;
  /** An edit: a content no longer wanted is cleared (an absent one would stay as it was). */
  edit?: boolean;
}

export const LIMITS = {
  title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000,
  content: 2000, buttonLabel: 80, buttonsPerRow: 5, rows: 5,
} as const;

const COLOR: Record<Tone, number> = {
  info: 0x3b82f6, waiting: 0xf59e0b, success: 0x22c55e, failure: 0xef4444, neutral: 0x9ca3af,
};

/** A description shorter than this is worth dropping trailing fields for. */
const MIN_DESCRIPTION = 200;

export function renderMessage(m: ChatMessage, o: RenderOptions = {}): DiscordMessageBody {
  const roles = m.buttons.length ? rolesNamed(m) : [];
  const body: DiscordMessageBody = {
    embeds: [embedOf(m, o.isChannel)],
    components: buttonRows(m.buttons),
    allowed_mentions: o.ping && roles.length ? { parse: [], roles } : { parse: [] },
  };
  // While a request waits, its content names the roles that may decide; the edit that ends the
  // wait clears it.
  if (roles.length) body.content = clip(`${roles.map((r) => `<@&${r}>`).join(" ")} ${m.text}`, LIMITS.content);
  else if (o.edit) body.content = "";
  return body;
}

function rolesNamed(m: ChatMessage): string[] {
  const text = [...m.lines, ...m.fields.map((f) => f.value)].join("\n");
  return [...new Set([...text.matchAll(/\bdiscord-role:(\d+)\b/g)].flatMap(([, id]) => (id === undefined ? [] : [id])))].slice(0, 100);
}

/** Discord shows a mention in an embed's title as raw `<@…>`: such a title leads the description instead. */
const IDENTITY = /\bdiscord(?:-role)?:\d+\b/;

function embedOf(m: ChatMessage, isChannel: IsChannel | undefined): APIEmbed {
  const heading = m.title || m.text;
  const titled = !IDENTITY.test(heading);
  const title = titled ? clip(heading, LIMITS.title) : "";
  const footer = m.footer ? clip(m.footer, LIMITS.footer) : "";
  let fields: APIEmbedField[] = m.fields.slice(0, LIMITS.fields).map((f) => {
    const value = clip(discordMarkdown(f.value, isChannel), LIMITS.fieldValue) || "—";
    return { name: clip(f.label, LIMITS.fieldName) || "\u200b", value, inline: value.length <= 40 && !value.includes("\n") };
  });
  const lines = titled ? m.lines : [`*${heading}*`, ...m.lines];
  const description = discordMarkdown(lines.join("\n"), isChannel).trim();
  const fieldsLength = (fs: APIEmbedField[]) => fs.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const room = () => LIMITS.total - title.length - footer.length - fieldsLength(fields);
  // Past the 6000-character total, the lines matter more than the last fields.
  while (fields.length && room() < Math.min(description.length, MIN_DESCRIPTION)) fields = fields.slice(0, -1);
  const embed: APIEmbed = { ...(title ? { title } : {}), color: COLOR[m.tone] };
  const shown = clip(description, Math.max(0, Math.min(LIMITS.description, room())));
  if (shown) embed.description = shown;
  if (fields.length) embed.fields = fields;
  if (footer) embed.footer = { text: footer };
  // Discord refuses the whole message for an embed url it cannot parse.
  if (title && m.link && /^https?:\/\/[^\s]+$/.test(m.link.url)) embed.url = m.link.url;
  return embed;
}

function buttonRows(buttons: ChatButton[]): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const rows: APIActionRowComponent<APIButtonComponentWithCustomId>[] = [];
  const shown = buttons.slice(0, LIMITS.buttonsPerRow * LIMITS.rows);
  for (let i = 0; i < shown.length; i += LIMITS.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: shown.slice(i, i + LIMITS.buttonsPerRow).map(buttonOf) });
  }
  return rows;
}

function buttonOf(b: ChatButton): APIButtonComponentWithCustomId {
  return {
    type: ComponentType.Button,
    custom_id: clickId(b.id, b.confirm ? "ask" : "act"),
    label: clip(b.label, LIMITS.buttonLabel),
    style: b.style === "danger" ? ButtonStyle.Danger : ButtonStyle.Success,
  };
}
