import type { Priority } from "../core/sop/types.ts";

/** A nudge: "look at run X". Jobs may arrive twice; the store is the truth. */
export interface Job {
  kind: "advance" | "timeout";
  runId: string;
  /** For timeouts: the checkpoint id, or "run-timeout". */
  checkpoint?: string;
  /**
   * Set by the queue when it hands out a job again because the worker that held it stopped
   * answering (it died mid-command): what that worker was running is now orphaned.
   */
  redelivered?: boolean;
}

export interface EnqueueOptions {
  priority: Priority;
  delayMs?: number;
  /** While a job with this id waits (queued or delayed), another with the same id is dropped. */
  id?: string;
}

export interface WorkQueue {
  enqueue(job: Job, opts: EnqueueOptions): Promise<void>;
  /** Start consuming: critical before high before medium before low, FIFO within a priority. */
  process(handler: (job: Job) => Promise<void>, concurrency: number): void;
  /** Stop taking jobs and wait for the running handlers to finish. */
  close(): Promise<void>;
}
