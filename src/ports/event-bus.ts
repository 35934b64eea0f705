import type { RunEvent } from "../core/run/effects.ts";

/** Run events to whoever notifies (CLI progress, chat adapters, the web UI). */
export interface EventBus {
  publish(event: RunEvent): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(handler: (event: RunEvent) => void): () => void;
  close(): Promise<void>;
}
