/** A ChatSurface that keeps messages in memory: what a channel would show, and a switch to fail. */
import type { ChatMessage } from "../../src/chat/chat-message.ts";
import { DeliveryError, MessageGoneError, type ChatSurface } from "../../src/chat/notifier.ts";
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
  /** Calls that wait at the gate (see `hold`), each with what lets it through. */
  readonly held: (() => void)[] = [];
  private holding = false;
  /** Channels that refuse every call, as an archived channel would. */
  readonly broken = new Set<string>();
  private next = 1;

  constructor(private readonly defaultChannel = "C-DEFAULT") {}

  channelsFor(def: SopDefinition): string[] {
    return def.notify.slack.length ? def.notify.slack : [this.defaultChannel];
  }

  async post(channel: string, message: ChatMessage, thread?: string): Promise<string> {
    await this.gate();
    this.fail(`post ${message.title}`, channel);
    const id = String(this.next++);
    this.shown.push({ id, channel, message, edits: 0, ...(thread ? { thread } : {}) });
    return id;
  }

  async update(channel: string, id: string, message: ChatMessage): Promise<void> {
    await this.gate();
    this.fail(`update ${id}`, channel);
    const shown = this.shown.find((m) => m.id === id && m.channel === channel);
    if (!shown) throw new MessageGoneError(`message_not_found: ${id}`);
    shown.message = message;
    shown.edits++;
  }

  /** From now on every call waits until the test lets it through, as on a platform that is slow for as long as the test likes. */
  hold(): void {
    this.holding = true;
  }

  /** Lets the first held call through. */
  release(): void {
    this.held.shift()?.();
  }

  /** Stops holding calls and lets every held one through. */
  releaseAll(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }

  private async gate(): Promise<void> {
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
  }

  /** Someone deleted the message in the channel. */
  delete(id: string): void {
    const i = this.shown.findIndex((m) => m.id === id);
    if (i >= 0) this.shown.splice(i, 1);
  }

  private fail(call: string, channel: string): void {
    if (this.broken.has(channel)) {
      this.calls.push(`${call} in ${channel} (failed)`);
      throw new DeliveryError(`is_archived: ${channel}`);
    }
    const failure = this.failures.shift();
    this.calls.push(failure === undefined ? call : `${call} (failed)`);
    if (typeof failure === "number") throw new DeliveryError("ratelimited", failure);
    if (typeof failure === "string") throw new DeliveryError(failure);
  }

  find(title: string | RegExp, channel?: string): ShownMessage | undefined {
    return this.shown.find((m) => (channel === undefined || m.channel === channel) && (typeof title === "string" ? m.message.title.includes(title) : title.test(m.message.title)));
  }

  text(m: ShownMessage | undefined): string {
    if (!m) return "";
    const { title, lines, fields, buttons, footer } = m.message;
    return [title, ...lines, ...fields.map((f) => `${f.label}: ${f.value}`), ...buttons.map((b) => `[${b.label}]`), footer ?? ""].join("\n");
  }
}
