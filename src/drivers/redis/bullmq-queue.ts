import { Queue, Worker, type JobsOptions } from "bullmq";
import type { Priority } from "../../core/sop/types.ts";
import type { CronSchedule, EnqueueOptions, Job, WorkQueue } from "../../ports/work-queue.ts";
import type { RedisClient } from "./redis-connection.ts";

/** Ids of the job schedulers this queue owns (`schedule-<sop>-<hash>`). */
export const SCHEDULE_PREFIX = "schedule-";

/** BullMQ runs the lowest number first and FIFO within one; 0 would mean "unprioritised", ahead of all. */
const BULLMQ_PRIORITY: Record<Priority, number> = { critical: 1, high: 2, medium: 3, low: 4 };

export interface BullmqQueueOptions {
  /**
   * Needs `maxRetriesPerRequest: null` (BullMQ's rule for workers); BullMQ duplicates it for
   * blocking reads. A Cluster client on a Redis Cluster.
   */
  connection: RedisClient;
  /** BullMQ's key prefix: the deployment's key prefix with its hash tag (`{sop}`), so its keys are `{sop}:<name>:*`. */
  prefix: string;
  /** Queue name; default `jobs`. */
  name?: string;
  /** How long a worker's lock on a job lasts without renewal before the job counts as stalled (ms). */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs, i.e. jobs of a dead worker (ms). */
  stalledIntervalMs?: number;
  /** Receives a handler's error (with its job) and BullMQ's own errors (job undefined). */
  onError: (error: unknown, job: Job | undefined) => void;
  /** For a process that only looks: BullMQ writes nothing of its own (its queue metadata). */
  readOnly?: boolean;
}

/**
 * The Redis `WorkQueue`: one BullMQ queue of "advance run X" and timeout nudges.
 *
 * Dedupe follows the port (and the local queue): while a job with an id waits, queued or
 * delayed, another with that id is dropped; a job whose id is running is taken, and runs once
 * the running one ends, since that one may already have looked. That is BullMQ's deduplication
 * with `keepLastIfActive` rather than a custom jobId, which would drop it. Finished jobs are
 * removed, so 10,000 runs leave no job records behind; failed ones are kept a while for a look.
 */
export class BullmqQueue implements WorkQueue {
  readonly durable = true;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  /** No new handler starts; the running ones may still enqueue. */
  private closing = false;
  private closed = false;
  private readonly name: string;

  constructor(private readonly options: BullmqQueueOptions) {
    this.name = options.name ?? "jobs";
    this.queue = new Queue(this.name, { connection: options.connection, prefix: options.prefix, ...(options.readOnly ? { skipMetasUpdate: true } : {}) });
    this.queue.on("error", (error: unknown) => this.report(error, undefined));
  }

  /** The BullMQ queue itself, for Bull Board (/admin/queues) to show; everything else goes through the port. */
  bullQueue(): Queue {
    return this.queue;
  }

  async enqueue(job: Job, opts: EnqueueOptions): Promise<void> {
    if (this.closed) throw new Error(`cannot enqueue ${job.kind} of run ${job.runId}: the queue is closed`);
    const priority = BULLMQ_PRIORITY[opts.priority] as number | undefined;
    if (priority === undefined) throw new RangeError(`cannot enqueue a job with priority ${JSON.stringify(opts.priority)}`);
    const jobOptions: JobsOptions = {
      priority,
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600, count: 1_000 },
    };
    if (opts.delayMs !== undefined && opts.delayMs > 0) jobOptions.delay = opts.delayMs;
    if (opts.id !== undefined) jobOptions.deduplication = { id: opts.id, keepLastIfActive: true };
    await this.queue.add(job.kind, job, jobOptions);
  }

  process(handler: (job: Job) => Promise<void>, concurrency: number): void {
    if (this.worker !== undefined) throw new Error("BullmqQueue.process() was already called; a queue has one handler");
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    if (this.closing) return;
    const { lockDurationMs, stalledIntervalMs } = this.options;
    // A job redelivered after its worker died needs nothing special: the run's claim tells
    // whoever takes it that its step was orphaned.
    const worker = new Worker<Job>(this.name, (bullJob) => handler(bullJob.data), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency,
      ...(lockDurationMs === undefined ? {} : { lockDuration: lockDurationMs }),
      ...(stalledIntervalMs === undefined ? {} : { stalledInterval: stalledIntervalMs }),
    });
    // A handler's error fails its job (no retries: the store is the truth, the next nudge retries).
    worker.on("failed", (bullJob, error) => this.report(error, bullJob?.data));
    worker.on("error", (error: unknown) => this.report(error, undefined));
    this.worker = worker;
  }

  /** BullMQ job schedulers: one per id in Redis, so three processes upserting them fire each tick once. */
  async syncSchedules(schedules: readonly CronSchedule[]): Promise<void> {
    const wanted = new Set(schedules.map((s) => s.id));
    for (const existing of await this.queue.getJobSchedulers(0, -1)) {
      const id = existing.key;
      if (id.startsWith(SCHEDULE_PREFIX) && !wanted.has(id)) await this.queue.removeJobScheduler(id);
    }
    for (const s of schedules) {
      const data: Job = { kind: "schedule", runId: "", sop: s.sop, cron: s.cron };
      await this.queue.upsertJobScheduler(s.id, { pattern: s.cron, ...(s.timezone ? { tz: s.timezone } : {}) }, {
        name: "schedule", data, opts: { removeOnComplete: true, removeOnFail: { age: 24 * 3600, count: 1_000 } },
      });
    }
  }

  /**
   * Stops taking jobs, waits for the running handlers (which may still enqueue: a run they end
   * nudges the next one), then closes the queue. Waiting jobs stay in Redis.
   */
  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.worker?.close();
    } finally {
      this.closed = true;
      await this.queue.close();
    }
  }

  private report(error: unknown, job: Job | undefined): void {
    try {
      this.options.onError(error, job);
    } catch {
      // onError is the last stop for errors; a failing one must not stop the worker.
    }
  }
}
