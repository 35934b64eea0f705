import type { Priority } from "../core/sop/types.ts";

/** A nudge: "look at run X". Jobs may arrive twice; the store is the truth. */
export interface Job {
  kind: "advance" | "timeout";
  runId: string;
  /** For timeouts: the checkpoint id, or "run-timeout". */
  checkpoint?: string;
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
