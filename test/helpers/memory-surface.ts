/** A ChatSurface that keeps messages in memory: what a channel would show, and a switch to fail. */
import type { ChatMessage } from "../../src/chat/chat-message.ts";
import { DeliveryError, type ChatSurface } from "../../src/chat/notifier.ts";
import type { SopDefinition } from "../../src/core/sop/types.ts";

export interface ShownMessage {
  id: string;
  channel: string;
  thread?: string;
  message: ChatMessage;
  edits: number;
}

export class MemorySurface implements ChatSurface {
  readonly platform = "slack" as const;
  readonly shown: ShownMessage[] = [];
  readonly calls: string[] = [];
  /** Each call takes one: a number is a rate limit (retry after that many ms), a string an outage. */
  readonly failures: (number | string)[] = [];
  private next = 1;

  constructor(private readonly defaultChannel = "C-DEFAULT") {}

  channelsFor(def: SopDefinition): string[] {
    return def.notify.slack.length ? def.notify.slack : [this.defaultChannel];
  }

  async post(channel: string, message: ChatMessage, thread?: string): Promise<string> {
    this.fail(`post ${message.title}`);
    const id = String(this.next++);
    this.shown.push({ id, channel, message, edits: 0, ...(thread ? { thread } : {}) });
    return id;
  }

  async update(channel: string, id: string, message: ChatMessage): Promise<void> {
    this.fail(`update ${id}`);
    const shown = this.shown.find((m) => m.id === id && m.channel === channel);
    if (!shown) throw new DeliveryError(`message_not_found: ${id}`);
    shown.message = message;
    shown.edits++;
  }

  private fail(call: string): void {
    const failure = this.failures.shift();
    this.calls.push(failure === undefined ? call : `${call} (failed)`);
    if (typeof failure === "number") throw new DeliveryError("ratelimited", failure);
    if (typeof failure === "string") throw new DeliveryError(failure);
  }

  find(title: string | RegExp): ShownMessage | undefined {
    return this.shown.find((m) => (typeof title === "string" ? m.message.title.includes(title) : title.test(m.message.title)));
  }

  text(m: ShownMessage | undefined): string {
    if (!m) return "";
    const { title, lines, fields, buttons, footer } = m.message;
    return [title, ...lines, ...fields.map((f) => `${f.label}: ${f.value}`), ...buttons.map((b) => `[${b.label}]`), footer ?? ""].join("\n");
  }
}
