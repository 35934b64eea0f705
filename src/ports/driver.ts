import type { EventBus } from "./event-bus.ts";
import type { MessageLedger } from "./message-ledger.ts";
import type { RunStore } from "./run-store.ts";
import type { WorkQueue } from "./work-queue.ts";

/** What a driver (local or Redis) gives the engine: a store, a queue and an event bus. */
export interface Driver {
  store: RunStore;
  queue: WorkQueue;
  events: EventBus;
  /** What the chat adapters posted about each run. */
  ledger: MessageLedger;
  /** Closes the queue (waiting for running jobs), the bus and the store. */
  close(): Promise<void>;
}
