import type { Priority } from "../core/sop/types.ts";

/**
 * A nudge: "look at run X" (or a schedule tick). Jobs may arrive twice; the store is the truth.
 * Every kind carries `runId` (empty for schedule ticks): jobs already queued in Redis have it.
 */
export type Job =
  | { kind: "advance"; runId: string }
  /** A deadline fell due: the checkpoint's id, or "run-timeout". */
  | { kind: "timeout"; runId: string; checkpoint: string }
  /** A schedule trigger fired: the SOP to start and the cron that fired. */
  | { kind: "schedule"; runId: ""; sop: string; cron: string };

export type RunJob = Exclude<Job, { kind: "schedule" }>;
export type ScheduleTick = Extract<Job, { kind: "schedule" }>;

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
  /**
   * True when jobs outlive this process (Redis), delayed ones too; false when they are lost with
   * it (the in-process queue), so a new process re-arms the timers of the runs it finds.
   */
  readonly durable: boolean;
  /** Rejects once the queue is closed: the caller decides whether a lost nudge matters. */
  enqueue(job: Job, opts: EnqueueOptions): Promise<void>;
  /** Start consuming: critical before high before medium before low, FIFO within a priority. */
  process(handler: (job: Job) => Promise<void>, concurrency: number): void;
  /**
   * Queues that fire schedules themselves (BullMQ job schedulers) make exactly these the active
   * ones, so each cron tick becomes one `schedule` job however many processes run; the local
   * queue has none, and the caller arms node-cron instead.
   */
  syncSchedules?(schedules: readonly CronSchedule[]): Promise<void>;
  /** Stop taking jobs and wait for the running handlers to finish; they may still enqueue meanwhile. */
  close(): Promise<void>;
}
