/**
 * Text on its way to Slack and back. Slack's markup reserves `&`, `<` and `>` (links, mentions),
 * so anything a person or a step wrote is escaped before it is shown, and our own identities
 * (`slack:U…`, `slack-group:S…`) become mentions that Slack renders as names. Text coming in is
 * the reverse: Slack escapes those three characters and wraps links in `<…>`, which a trigger
 * pattern written for plain text would not expect.
 */

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Identities Slack can render itself: people, channels and user groups. Names are never looked up. */
export function withMentions(escaped: string): string {
  return escaped
    .replace(/\bslack:([UW][A-Z0-9]+)\b/g, "<@$1>")
    .replace(/\bslack:([CG][A-Z0-9]+)\b/g, "<#$1>")
    .replace(/\bslack-group:(S[A-Z0-9]+)\b/g, "<!subteam^$1>");
}

/** User text as mrkdwn: escaped, with mentions. */
export function mrkdwn(text: string): string {
  return withMentions(escapeMrkdwn(text));
}

/**
 * At most `max` characters, ending in "…" when cut. The cut never splits what Slack parses as a
 * unit: an entity (`&amp;`), a mention or link (`<…>`) or a surrogate pair, any of which would
 * show as garbage or make Slack reject the block.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${safePrefix(text, max - 1)}…`;
}

/** The longest prefix of at most `max` characters that ends on a unit boundary. */
export function safePrefix(text: string, max: number): string {
  let cut = text.slice(0, Math.max(0, max));
  const open = cut.lastIndexOf("<");
  if (open > cut.lastIndexOf(">")) cut = cut.slice(0, open);
  const amp = cut.lastIndexOf("&");
  if (amp >= 0 && /^&[a-z]*$/.test(cut.slice(amp))) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/** What a person typed, as they typed it: links unwrapped and entities decoded. */
export function plainText(slackText: string): string {
  return slackText
    .replace(/<((?:https?|mailto):[^|>]+)\|([^>]+)>/g, "$2")
    .replace(/<((?:https?|mailto):[^|>]+)>/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
