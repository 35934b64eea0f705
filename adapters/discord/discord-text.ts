/**
 * Text on its way to Discord. Our messages are written with Slack's `*bold*`, which Discord reads
 * as italics, so it becomes `**bold**`; our identities (`discord:…`, `discord-role:…`) become
 * mentions that Discord renders as names. Neither happens inside code, where a step's output
 * may contain anything. Discord never pings for a mention inside an embed, and the payloads set
 * `allowed_mentions` for the content, so a mention here only shows a name.
 */

/** Code blocks and inline code: shown as written. */
const CODE = /```[\s\S]*?```|`[^`\n]*`/g;

/** Is this snowflake a channel (the `discord:<channel id>` source of a run) rather than a person? */
export type IsChannel = (id: string) => boolean;

export function discordMarkdown(text: string, isChannel: IsChannel = () => false): string {
  let out = "";
  let at = 0;
  for (const m of text.matchAll(CODE)) {
    out += prose(text.slice(at, m.index), isChannel) + m[0];
    at = m.index + m[0].length;
  }
  return out + prose(text.slice(at), isChannel);
}

function prose(text: string, isChannel: IsChannel): string {
  return text
    // As Slack reads it: no space just inside the asterisks, so `2 * 3 * 4` stays arithmetic.
    .replace(/(^|[^*\w])\*([^*\s](?:[^*\n]*[^*\s])?)\*(?![*\w])/g, "$1**$2**")
    .replace(/\bdiscord-role:(\d+)\b/g, "<@&$1>")
    .replace(/\bdiscord:(\d+)\b/g, (_, id: string) => (isChannel(id) ? `<#${id}>` : `<@${id}>`));
}

/**
 * At most `max` characters, ending in "…" when cut. The cut never leaves half a mention (`<@12`),
 * half a surrogate pair, or a code block open, any of which would show as garbage.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return "…".slice(0, max);
  let cut = safePrefix(text, max - 1);
  if (fences(cut) % 2 === 1) {
    // Room for the "…" and a closing fence on its own line.
    cut = safePrefix(text, Math.max(0, max - 5));
    return fences(cut) % 2 === 1 ? `${cut}…\n\`\`\`` : `${cut}…`;
  }
  return `${cut}…`;
}

function safePrefix(text: string, max: number): string {
  let cut = text.slice(0, max);
  const open = cut.lastIndexOf("<");
  if (open > cut.lastIndexOf(">")) cut = cut.slice(0, open);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

const fences = (text: string): number => text.split("```").length - 1;
