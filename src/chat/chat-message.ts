/**
 * A chat message as both platforms can show it: a title, a few lines, labelled fields and
 * buttons. Slack renders it as Block Kit, Discord as an embed with a row of buttons; neither
 * adds content of its own, so the two say the same.
 *
 * Lines and field values are plain text with `code` spans only: both platforms render those
 * alike. Identities are written as `slack:U…`, `discord:…` and turned into mentions by the
 * renderer of their own platform.
 */
export type Tone = "info" | "waiting" | "success" | "failure" | "neutral";

export interface ChatButton {
  /** What the click is bound to (see button-id.ts). */
  id: string;
  label: string;
  style: "primary" | "danger";
  /** Ask "are you sure?" before the click counts (critical SOPs, where the platform can). */
  confirm?: { title: string; text: string; yes: string; no: string };
}

export interface ChatField {
  label: string;
  value: string;
}

export interface ChatMessage {
  /** One line for notifications, screen readers and clients without rich messages. */
  text: string;
  title: string;
  tone: Tone;
  lines: string[];
  fields: ChatField[];
  buttons: ChatButton[];
  /** Small print under the message. */
  footer?: string;
  link?: { label: string; url: string };
}

/**
 * Text that must not open or close a fenced code block (a title, a comment, a command shown in
 * one): a stray fence would turn the rest of the message into code, or end a block early.
 */
export const noFences = (text: string): string => text.replace(/```/g, "'''");

export function message(m: Partial<ChatMessage> & { title: string }): ChatMessage {
  return { text: m.text ?? m.title, tone: "info", lines: [], fields: [], buttons: [], ...m };
}

/** A reply to the person who typed a command or clicked. */
export interface ChatReply {
  message: ChatMessage;
  /** Only the caller sees it (errors, lists, plans); else it is posted for the channel. */
  ephemeral: boolean;
}

export const ephemeral = (m: ChatMessage): ChatReply => ({ message: m, ephemeral: true });
export const inChannel = (m: ChatMessage): ChatReply => ({ message: m, ephemeral: false });
