/** The driver contracts against the local driver: file-backed store, in-memory queue and bus. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { FileMessageLedger } from "../../src/drivers/local/file-message-ledger.ts";
import { FileRunStore } from "../../src/drivers/local/file-run-store.ts";
import { MemoryEventBus } from "../../src/drivers/local/memory-event-bus.ts";
import { MemoryQueue } from "../../src/drivers/local/memory-queue.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { eventBusContract } from "./event-bus.contract.ts";
import { messageLedgerContract } from "./message-ledger.contract.ts";
import { runStoreContract } from "./run-store.contract.ts";
import { workQueueContract } from "./work-queue.contract.ts";

const root = await mkdtemp(join(tmpdir(), "sop-contract-local-"));
afterAll(() => rm(root, { recursive: true, force: true }));

// Reopening a name is reopening its data folder.
runStoreContract("local", async (name) => {
  const store = await FileRunStore.open(join(root, name));
  return { store, close: () => store.close() };
});

workQueueContract("local", async (_name, onError) => {
  const queue = new MemoryQueue({ onError: (error) => onError(error) });
  return { queue, close: () => queue.close() };
});

eventBusContract("local", async (_name, onError) => {
  const bus = new MemoryEventBus({ onError: (error) => onError(error) });
  return { bus, close: () => bus.close() };
});

// A reopen is a new ledger on the same folder (claims live in memory and go with the process).
messageLedgerContract("local", async () => {
  const clock = new TestClock();
  return { ledger: new FileMessageLedger(join(root, "ledger"), clock), close: async () => undefined, advance: (ms) => clock.advance(ms) };
});
