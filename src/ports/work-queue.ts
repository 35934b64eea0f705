import type { Priority } from "../core/sop/types.ts";

/** A nudge: "look at run X" (or a schedule tick). Jobs may arrive twice; the store is the truth. */
export interface Job {
  kind: "advance" | "timeout" | "schedule";
  /** The run; empty for schedule ticks. */
  runId: string;
  /** For schedule ticks: the SOP to start and the cron that fired. */
  sop?: string;
  cron?: string;
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

/** A schedule trigger as a queue that fires schedules itself keeps it. */
export interface CronSchedule {
  /** Stable per SOP and trigger, so every process upserts the same one. */
  id: string;
  sop: string;
  cron: string;
  timezone?: string;
}

export interface WorkQueue {
  enqueue(job: Job, opts: EnqueueOptions): Promise<void>;
  /** Start consuming: critical before high before medium before low, FIFO within a priority. */
  process(handler: (job: Job) => Promise<void>, concurrency: number): void;
  /**
   * Queues that fire schedules themselves (BullMQ job schedulers) make exactly these the active
   * ones, so each cron tick becomes one `schedule` job however many processes run; the local
   * queue has none, and the caller arms node-cron instead.
   */
  syncSchedules?(schedules: readonly CronSchedule[]): Promise<void>;
  /** Stop taking jobs and wait for the running handlers to finish. */
  close(): Promise<void>;
}
