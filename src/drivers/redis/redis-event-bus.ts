import { randomUUID } from "node:crypto";
import type { RunEvent } from "../../core/run/effects.ts";
import type { EventBus } from "../../ports/event-bus.ts";
import { MemoryEventBus } from "../local/memory-event-bus.ts";
import type { RedisClient } from "./redis-connection.ts";

export interface RedisEventBusOptions {
  /** Any command connection (it may be shared with the store). */
  publisher: RedisClient;
  /**
   * A connection of its own: SUBSCRIBE puts it in subscriber mode. On a Redis Cluster, a Cluster
   * client: PUBLISH reaches every node, and the client moves its subscription when a node fails.
   */
  subscriber: RedisClient;
  /** Pub/sub channel of the deployment, `<prefix>:events`. */
  channel: string;
  /** Receives what a subscriber threw, a failed publish, or an unreadable message (event undefined). */
  onError: (error: unknown, event: RunEvent | undefined) => void;
  /** Tells this bus's own messages apart when Redis echoes them back; default a random UUID. */
  origin?: string;
}

/** One message on the channel: one event (`e`), or several published together (`es`, in order). */
interface Envelope {
  /** Origin: the bus that published it. */
  o: string;
  e?: RunEvent;
  es?: RunEvent[];
}

/**
 * The Redis `EventBus`: every process hears every run event over one pub/sub channel.
 *
 * Exactly once per process: `publish` hands the event to this process's subscribers at once
 * (as the local bus does, so they have seen it when `publish` resolves) and then to Redis; the
 * echo of its own message is recognised by its origin id and dropped. Events published in the
 * same tick (a transition's, or several runs') go out as one message, in order. Pub/sub is at-most-once:
 * a process that is disconnected misses events, which are notifications only (the store is
 * the truth about a run).
 */
export class RedisEventBus implements EventBus {
  readonly origin: string;
  /** How this bus's own messages begin (`send` writes the origin first): their echo is dropped unparsed. */
  private readonly echo: string;
  private readonly local: MemoryEventBus;
  private closed = false;
  private readonly onMessage = (channel: string, message: string): void => this.receive(channel, message);
  /** Events published this tick, not yet sent, and the send they wait for. */
  private pending: { events: RunEvent[]; sent: Promise<void> } | undefined;

  private constructor(private readonly options: RedisEventBusOptions) {
    this.origin = options.origin ?? randomUUID();
    this.echo = `{"o":${JSON.stringify(this.origin)},`;
    this.local = new MemoryEventBus({ onError: (error, event) => this.report(error, event) });
  }

  /** Resolves once the subscription is in place, so no event published after it is missed. */
  static async open(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const bus = new RedisEventBus(options);
    options.subscriber.on("message", bus.onMessage);
    await options.subscriber.subscribe(options.channel);
    return bus;
  }

  async publish(event: RunEvent): Promise<void> {
    if (this.closed) return;
    await this.local.publish(event);
    if (this.pending) {
      this.pending.events.push(event);
      return this.pending.sent;
    }
    const events = [event];
    // One PUBLISH for everything published before the next tick: each costs Redis a fan-out.
    const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.send(events));
    this.pending = { events, sent };
    return sent;
  }

  private async send(events: RunEvent[]): Promise<void> {
    this.pending = undefined;
    const [first] = events;
    const envelope: Envelope = events.length === 1 && first !== undefined ? { o: this.origin, e: first } : { o: this.origin, es: events };
    try {
      await this.options.publisher.publish(this.options.channel, JSON.stringify(envelope));
    } catch (error) {
      // Other processes miss these notifications; the runs themselves are safe in the store.
      for (const event of events) this.report(error, event);
    }
  }

  subscribe(handler: (event: RunEvent) => void): () => void {
    return this.local.subscribe(handler);
  }

  /** Stops delivering; the connections belong to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // What was published before closing still goes out.
    await this.pending?.sent;
    this.options.subscriber.off("message", this.onMessage);
    await this.local.close();
    if (this.options.subscriber.status === "ready") await this.options.subscriber.unsubscribe(this.options.channel).catch(() => undefined);
  }

  private receive(channel: string, message: string): void {
    if (this.closed || channel !== this.options.channel || message.startsWith(this.echo)) return;
    let origin: string;
    let events: RunEvent[];
    try {
      // Anything may arrive on the channel: each part is checked before it is trusted.
      const parsed = JSON.parse(message) as Partial<Envelope> | null;
      const list: unknown = parsed?.es ?? (parsed?.e === undefined ? undefined : [parsed.e]);
      if (typeof parsed?.o !== "string" || !Array.isArray(list) || list.length === 0 || !list.every(isRunEvent)) {
        throw new Error("not { o, e: RunEvent } or { o, es: RunEvent[] }");
      }
      origin = parsed.o;
      events = list;
    } catch (error) {
      this.report(new Error(`unreadable message on ${channel}: ${error instanceof Error ? error.message : String(error)}`), undefined);
      return;
    }
    if (origin === this.origin) return;
    // MemoryEventBus.publish delivers synchronously and never rejects.
    for (const event of events) void this.local.publish(event);
  }

  private report(error: unknown, event: RunEvent | undefined): void {
    try {
      this.options.onError(error, event);
    } catch {
      // onError is the last stop for errors; a failing one must not stop the fan-out.
    }
  }
}

function isRunEvent(value: unknown): value is RunEvent {
  const event = value as Partial<RunEvent> | null;
  return typeof event?.type === "string" && typeof event.runId === "string";
}
