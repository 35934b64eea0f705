/**
 * A ChatMessage as Block Kit: the title in bold, the lines as mrkdwn sections, the fields two
 * columns wide, the buttons in an actions block and the footer and link as small print. Slack
 * rejects a whole message when one block breaks a limit, so every text is cut to fit (never
 * inside a mention or an entity) and long line lists are split over sections.
 *
 * The tone is not drawn: Block Kit has no accent colour outside legacy attachments, which Slack
 * folds away, and the lines already carry their own status icons.
 */
import type { types } from "@slack/bolt";
import type { ChatButton, ChatField, ChatMessage } from "../../src/chat/chat-message.ts";
import { clip, escapeMrkdwn, mrkdwn, safePrefix } from "./slack-text.ts";

type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** Slack's documented limits (docs.slack.dev, Block Kit reference). */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  contextText: 2000,
  buttonsPerBlock: 25,
  buttonText: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** The top-level text can be longer, but it only serves notifications and screen readers. */
  fallbackText: 3000,
} as const;

const FENCE = "```";

export interface SlackMessage {
  /** Notifications, screen readers and clients without blocks. */
  text: string;
  blocks: KnownBlock[];
}

export function renderMessage(m: ChatMessage): SlackMessage {
  const title: KnownBlock = section(`*${clip(mrkdwn(m.title), LIMITS.sectionText - 2)}*`);
  const fields = fieldSections(m.fields);
  const actions = actionBlocks(m.buttons);
  const context = contextBlock(m);
  const room = LIMITS.blocks - 1 - fields.length - actions.length - (context ? 1 : 0);
  const blocks: KnownBlock[] = [title, ...lineSections(m.lines, room), ...fields, ...actions, ...(context ? [context] : [])];
  return { text: clip(mrkdwn(m.text || m.title), LIMITS.fallbackText), blocks };
}

function section(text: string): KnownBlock {
  return { type: "section", text: { type: "mrkdwn", text } };
}

/** The lines in as few sections as fit, the last one saying how many were left out when even that is too many. */
function lineSections(lines: readonly string[], room: number): KnownBlock[] {
  const chunks = lineChunks(lines, LIMITS.sectionText);
  if (chunks.length <= room) return chunks.map(section);
  const kept = chunks.slice(0, Math.max(0, room - 1));
  return [...kept.map(section), section(`_… ${chunks.length - kept.length} more section(s) not shown_`)];
}

/**
 * Lines joined into chunks of at most `max` characters. A code block cut in two is closed at the
 * end of one chunk and opened again in the next, so both halves still show as code; every chunk
 * keeps room for that closing fence, whether or not it needs it.
 */
export function lineChunks(lines: readonly string[], max: number): string[] {
  const chunks: string[] = [];
  const room = max - FENCE.length - 1;
  let chunk = "";
  let fenced = false;
  const fresh = (): boolean => chunk === "" || chunk === FENCE;
  const add = (text: string): void => {
    chunk = chunk ? `${chunk}\n${text}` : text;
  };
  const close = (): void => {
    if (chunk.trim() !== "" && chunk !== FENCE) chunks.push(fenced ? `${chunk}\n${FENCE}` : chunk);
    chunk = fenced ? FENCE : "";
  };
  for (const line of lines) {
    let rest = mrkdwn(line);
    for (;;) {
      const free = room - chunk.length - (chunk ? 1 : 0);
      if (rest.length <= free) {
        add(rest);
        break;
      }
      const roomWhenFresh = room - (fenced ? FENCE.length + 1 : 0);
      if (!fresh() && rest.length <= roomWhenFresh) {
        close();
        continue;
      }
      // Longer than a whole section (a step's output): fill this one, at a line break when
      // there is one, and carry the rest over. No room left here, or only inside a mention or
      // an entity: start the next chunk instead, where there is room for something.
      const prefix = free > 0 ? safePrefix(rest, free) : "";
      if (!prefix && !fresh()) {
        close();
        continue;
      }
      const cut = prefix || rest.slice(0, Math.max(1, free));
      const lineEnd = cut.lastIndexOf("\n");
      const piece = lineEnd > 0 ? cut.slice(0, lineEnd) : cut;
      add(piece);
      rest = rest.slice(lineEnd > 0 ? lineEnd + 1 : piece.length);
      close();
    }
    if (line.trim() === FENCE) fenced = !fenced;
  }
  close();
  return chunks;
}

function fieldSections(fields: readonly ChatField[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  for (let i = 0; i < fields.length; i += LIMITS.fieldsPerSection) {
    out.push({
      type: "section",
      fields: fields.slice(i, i + LIMITS.fieldsPerSection).map((f) => ({
        type: "mrkdwn" as const,
        text: clip(`*${mrkdwn(f.label)}*\n${mrkdwn(f.value)}`, LIMITS.fieldText),
      })),
    });
  }
  return out;
}

function actionBlocks(buttons: readonly ChatButton[]): KnownBlock[] {
  const out: KnownBlock[] = [];
  for (let i = 0; i < buttons.length; i += LIMITS.buttonsPerBlock) {
    out.push({ type: "actions", elements: buttons.slice(i, i + LIMITS.buttonsPerBlock).map(button) });
  }
  return out;
}

const plain = (text: string, max: number) => ({ type: "plain_text" as const, text: clip(text, max), emoji: true });

/** action_id and value are both the button id: the click handler reads the first, people debugging payloads see the second. */
export function button(b: ChatButton): Button {
  return {
    type: "button",
    action_id: b.id,
    value: b.id,
    text: plain(b.label, LIMITS.buttonText),
    style: b.style,
    ...(b.confirm
      ? {
          confirm: {
            title: plain(b.confirm.title, LIMITS.confirmTitle),
            text: plain(b.confirm.text, LIMITS.confirmText),
            confirm: plain(b.confirm.yes, LIMITS.confirmButton),
            deny: plain(b.confirm.no, LIMITS.confirmButton),
            ...(b.style === "danger" ? { style: "danger" as const } : {}),
          },
        }
      : {}),
  };
}

/**
 * The footer and the web UI link as small print. The link is mrkdwn rather than a link button:
 * Slack sends a click on any button to the app, which would have to acknowledge it.
 */
function contextBlock(m: ChatMessage): KnownBlock | undefined {
  const elements: { type: "mrkdwn"; text: string }[] = [];
  if (m.footer) elements.push({ type: "mrkdwn", text: clip(mrkdwn(m.footer), LIMITS.contextText) });
  if (m.link) elements.push({ type: "mrkdwn", text: `<${escapeMrkdwn(m.link.url)}|${clip(escapeMrkdwn(m.link.label), 200)}>` });
  return elements.length ? { type: "context", elements } : undefined;
}
