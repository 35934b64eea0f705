import type { Driver } from "../../ports/driver.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { FileMessageLedger } from "./file-message-ledger.ts";
import { FileRunStore } from "./file-run-store.ts";
import { MemoryEventBus } from "./memory-event-bus.ts";
import { MemoryQueue } from "./memory-queue.ts";
import type { Clock } from "../../ports/clock.ts";

export { DataDirLockedError, dataDirHolder, lockDataDir, type DataDirLock } from "./data-dir-lock.ts";
export { FileRunStore, type FileRunStoreOptions } from "./file-run-store.ts";
export { MemoryEventBus, type MemoryEventBusOptions } from "./memory-event-bus.ts";
export { MemoryQueue, type MemoryQueueOptions } from "./memory-queue.ts";

export interface LocalDriverOptions {
  dataDir: string;
  /** Who holds the data folder, for the message another process gets, e.g. "sop serve". */
  owner: string;
  /** Told about each run or chain file that could not be read and was moved aside. */
  onProblem?: (message: string) => void;
  /** Receives queue handler and event subscriber errors, with where they happened. */
  onError?: (error: unknown, where: string) => void;
  /**
   * Only look: no lock on DATA_DIR (a `sop run` may hold it), every change refused, nothing
   * cleaned up. For commands that read (`sop status`, `sop list`).
   */
  readOnly?: boolean;
  /** What the queue's delayed jobs (timeouts) wait on and the ledger's claims expire by; default the system clock. */
  clock?: Clock;
}

export interface LocalDriver extends Driver {
  store: FileRunStore;
  queue: MemoryQueue;
  events: MemoryEventBus;
}

/** The zero-set-up driver: everything in this process, runs as files in `dataDir`. */
export async function openLocalDriver(opts: LocalDriverOptions): Promise<LocalDriver> {
  // The lock comes first: cleaning up after files another process is writing would race it.
  // Reading alone is safe without it: every file is replaced whole by a rename.
  const lock = opts.readOnly ? { release: async () => undefined } : await lockDataDir(opts.dataDir, opts.owner);
  let store: FileRunStore;
  try {
    store = await FileRunStore.open(opts.dataDir, { ...(opts.onProblem === undefined ? {} : { onProblem: opts.onProblem }), ...(opts.readOnly ? { readOnly: true } : {}) });
  } catch (error) {
    await lock.release();
    throw error;
  }
  const onError = opts.onError ?? reportToStderr;
  const queue = new MemoryQueue({ onError: (error, job) => onError(error, `queue job ${job.kind} of run ${job.runId}`), ...(opts.clock ? { clock: opts.clock } : {}) });
  const events = new MemoryEventBus({ onError: (error, event) => onError(error, `subscriber of ${event.type} of run ${event.runId}`) });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await queue.close();
      await events.close();
      await store.close();
    } finally {
      await lock.release();
    }
  };
  return { store, queue, events, ledger: new FileMessageLedger(opts.dataDir, opts.clock), close: () => (closing ??= close()) };
}

function reportToStderr(error: unknown, where: string): void {
  console.error(`sop-runner: ${where}:`, error);
}
