import type { Priority } from "../../core/sop/types.ts";
import { systemClock, type Clock } from "../../ports/clock.ts";
import type { EnqueueOptions, Job, WorkQueue } from "../../ports/work-queue.ts";

export interface MemoryQueueOptions {
  /** Receives a handler's rejection; the queue goes on with the next job. */
  onError: (error: unknown, job: Job) => void;
  /** What delayed jobs wait on; default the system clock. */
  clock?: Clock;
}

interface Entry {
  job: Job;
  priority: Priority;
  id: string | undefined;
}

const LANES: readonly Priority[] = ["critical", "high", "medium", "low"];

/**
 * The local `WorkQueue`: four FIFO lanes in memory, delayed jobs on timers. Nothing here is
 * durable; the store is the truth and the engine re-arms timeouts when it starts.
 */
export class MemoryQueue implements WorkQueue {
  readonly durable = false;
  private readonly lanes: Record<Priority, Entry[]> = { critical: [], high: [], medium: [], low: [] };
  /** Ids of the jobs that wait, queued or delayed; a running job's id no longer counts. */
  private readonly waitingIds = new Set<string>();
  /** Delayed jobs, and how to cancel each one's timer. */
  private readonly delayed = new Map<Entry, () => void>();
  private readonly running = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private handler: ((job: Job) => Promise<void>) | undefined;
  private concurrency = 0;
  /** No job starts any more; running handlers may still enqueue (into a queue nobody will run). */
  private closing = false;
  private closed = false;

  constructor(private readonly options: MemoryQueueOptions) {}

  async enqueue(job: Job, opts: EnqueueOptions): Promise<void> {
    if (this.closed) throw new Error(`cannot enqueue ${job.kind} of run ${job.runId}: the queue is closed`);
    if (!LANES.includes(opts.priority)) throw new RangeError(`cannot enqueue a job with priority ${JSON.stringify(opts.priority)}`);
    if (opts.id !== undefined) {
      if (this.waitingIds.has(opts.id)) return;
      this.waitingIds.add(opts.id);
    }
    const entry: Entry = { job, priority: opts.priority, id: opts.id };
    const delayMs = opts.delayMs ?? 0;
    if (delayMs > 0) this.delay(entry, delayMs);
    else this.push(entry);
  }

  process(handler: (job: Job) => Promise<void>, concurrency: number): void {
    if (this.handler !== undefined) throw new Error("MemoryQueue.process() was already called; a queue has one handler");
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    this.handler = handler;
    this.concurrency = concurrency;
    this.pump();
  }

  /** Resolves once no job is queued or running. Delayed jobs do not count. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking jobs, drops the waiting and delayed ones, and waits for the running handlers.
   * What they enqueue meanwhile is accepted and dropped with the rest: nothing here outlives the
   * process, and the next one's sweep finds the runs.
   */
  async close(): Promise<void> {
    this.closing = true;
    while (this.running.size > 0) {
      this.drop();
      this.settleIdle();
      await Promise.all(this.running);
    }
    this.drop();
    this.closed = true;
    this.settleIdle();
  }

  private drop(): void {
    for (const cancel of this.delayed.values()) cancel();
    this.delayed.clear();
    for (const lane of LANES) this.lanes[lane].length = 0;
    this.waitingIds.clear();
  }

  private delay(entry: Entry, ms: number): void {
    // The clock never keeps the process alive: a CLI may exit while a timeout waits, and the
    // store keeps the deadline.
    const cancel = (this.options.clock ?? systemClock).schedule(() => {
      this.delayed.delete(entry);
      this.push(entry);
    }, ms);
    this.delayed.set(entry, cancel);
  }

  private push(entry: Entry): void {
    this.lanes[entry.priority].push(entry);
    this.pump();
  }

  private next(): Entry | undefined {
    for (const lane of LANES) {
      const entry = this.lanes[lane].shift();
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  private pump(): void {
    const handler = this.handler;
    while (handler !== undefined && !this.closing && this.running.size < this.concurrency) {
      const entry = this.next();
      if (entry === undefined) break;
      if (entry.id !== undefined) this.waitingIds.delete(entry.id);
      // Started on a later microtask, so a handler that enqueues cannot re-enter this loop
      // before its own promise counts as running.
      const run: Promise<void> = Promise.resolve()
        .then(() => handler(entry.job))
        .catch((error: unknown) => this.report(error, entry.job))
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
    this.settleIdle();
  }

  private report(error: unknown, job: Job): void {
    try {
      this.options.onError(error, job);
    } catch {
      // onError is the last stop for errors; a failing one must not stop the queue either.
    }
  }

  private isIdle(): boolean {
    return this.running.size === 0 && (this.closing || LANES.every((lane) => this.lanes[lane].length === 0));
  }

  private settleIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
