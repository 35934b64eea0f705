import type { RunEvent } from "../../core/run/effects.ts";
import type { EventBus } from "../../ports/event-bus.ts";

export interface MemoryEventBusOptions {
  /** Receives what a subscriber threw (or its promise rejected with); the others still get the event. */
  onError: (error: unknown, event: RunEvent) => void;
}

interface Subscription {
  // Subscribers are typed as sync, but what one returns is looked at: it may be a promise.
  handler: (event: RunEvent) => unknown;
}

/** The local `EventBus`: synchronous fan-out, in subscription order, within this process. */
export class MemoryEventBus implements EventBus {
  /**
   * Replaced, never changed in place: a publish goes through the list as it was when it began, so
   * subscribing or unsubscribing from inside a handler affects the next event only, and no event
   * pays for a copy (with hundreds of callers each awaiting a run, there are hundreds of them).
   */
  private subscriptions: readonly Subscription[] = [];
  private closed = false;

  constructor(private readonly options: MemoryEventBusOptions) {}

  async publish(event: RunEvent): Promise<void> {
    if (this.closed) return;
    for (const { handler } of this.subscriptions) {
      try {
        const result = handler(event);
        // Handlers are typed as sync, but an async one must not leave an unhandled rejection.
        if (result instanceof Promise) result.catch((error: unknown) => this.report(error, event));
      } catch (error) {
        this.report(error, event);
      }
    }
  }

  subscribe(handler: (event: RunEvent) => void): () => void {
    const subscription: Subscription = { handler };
    this.subscriptions = [...this.subscriptions, subscription];
    return () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== subscription);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscriptions = [];
  }

  private report(error: unknown, event: RunEvent): void {
    try {
      this.options.onError(error, event);
    } catch {
      // onError is the last stop for errors; a failing one must not stop the fan-out.
    }
  }
}
