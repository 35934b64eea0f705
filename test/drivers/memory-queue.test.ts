import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { MemoryEventBus } from "../../src/drivers/local/memory-event-bus.ts";
import { MemoryQueue } from "../../src/drivers/local/memory-queue.ts";
import type { Job } from "../../src/ports/work-queue.ts";

const job = (runId: string): Job => ({ kind: "advance", runId });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending promise callback and I/O callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const queues: MemoryQueue[] = [];
function newQueue(onError: (error: unknown, job: Job) => void = () => undefined): MemoryQueue {
  const queue = new MemoryQueue({ onError });
  queues.push(queue);
  return queue;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

describe("MemoryQueue", () => {
  it("runs critical before high before medium before low, first in first out within each", async () => {
    const queue = newQueue();
    const order: string[] = [];
    await queue.enqueue(job("low-1"), { priority: "low" });
    await queue.enqueue(job("medium-1"), { priority: "medium" });
    await queue.enqueue(job("critical-1"), { priority: "critical" });
    await queue.enqueue(job("low-2"), { priority: "low" });
    await queue.enqueue(job("high-1"), { priority: "high" });
    await queue.enqueue(job("critical-2"), { priority: "critical" });
    queue.process(async (j) => void order.push(j.runId), 1);
    await queue.idle();
    expect(order).toEqual(["critical-1", "critical-2", "high-1", "medium-1", "low-1", "low-2"]);
  });

  it("drops a job whose id already waits", async () => {
    const queue = newQueue();
    const seen: Job[] = [];
    await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
    await queue.enqueue({ kind: "timeout", runId: "r1", checkpoint: "dup" }, { priority: "critical", id: "r1-advance" });
    await queue.enqueue(job("r2"), { priority: "medium", id: "r2-advance" });
    queue.process(async (j) => void seen.push(j), 1);
    await queue.idle();
    expect(seen).toEqual([job("r1"), job("r2")]);
  });

  it("takes a job whose id is running, since the running one may already have looked", async () => {
    const queue = newQueue();
    const gate = deferred();
    let runs = 0;
    queue.process(async () => {
      runs++;
      if (runs === 1) await gate.promise;
    }, 1);
    await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
    await settle();
    expect(runs).toBe(1);
    await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
    gate.resolve();
    await queue.idle();
    expect(runs).toBe(2);
  });

  it("runs a delayed job once its delay has passed, and not before", async () => {
    vi.useFakeTimers();
    const queue = newQueue();
    const seen: string[] = [];
    queue.process(async (j) => void seen.push(j.runId), 1);
    await queue.enqueue({ kind: "timeout", runId: "r1", checkpoint: "step:1" }, { priority: "high", delayMs: 5_000 });
    await queue.enqueue(job("now"), { priority: "low" });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(seen).toEqual(["now"]);
    await vi.advanceTimersByTimeAsync(1);
    await queue.idle();
    expect(seen).toEqual(["now", "r1"]);
  });

  it("waits out delays longer than a single timer can hold", async () => {
    vi.useFakeTimers();
    const queue = newQueue();
    const seen: string[] = [];
    queue.process(async (j) => void seen.push(j.runId), 1);
    const thirtyDays = 30 * 24 * 3600 * 1000;
    await queue.enqueue(job("r1"), { priority: "medium", delayMs: thirtyDays });
    await vi.advanceTimersByTimeAsync(thirtyDays - 1);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await queue.idle();
    expect(seen).toEqual(["r1"]);
  });

  it("counts a delayed job as waiting for dedupe but not for idle", async () => {
    const queue = newQueue();
    const seen: string[] = [];
    queue.process(async (j) => void seen.push(j.runId), 1);
    await queue.enqueue(job("r1"), { priority: "medium", delayMs: 60_000, id: "r1-timeout" });
    await queue.enqueue(job("r1"), { priority: "medium", id: "r1-timeout" });
    await queue.idle();
    expect(seen).toEqual([]);
  });

  it("runs no more handlers at once than its concurrency", async () => {
    const queue = newQueue();
    const gates = Array.from({ length: 5 }, deferred);
    let active = 0;
    let most = 0;
    const started: string[] = [];
    queue.process(async (j) => {
      started.push(j.runId);
      most = Math.max(most, ++active);
      await gates[Number(j.runId)]!.promise;
      active--;
    }, 2);
    for (let i = 0; i < 5; i++) await queue.enqueue(job(String(i)), { priority: "medium" });
    await settle();
    expect(started).toEqual(["0", "1"]);
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual(["0", "1", "2"]);
    for (const gate of gates) gate.resolve();
    await queue.idle();
    expect(started).toHaveLength(5);
    expect(most).toBe(2);
  });

  it("hands a failing handler's error to onError and goes on with the next job", async () => {
    const errors: [unknown, Job][] = [];
    const queue = newQueue((error, j) => errors.push([error, j]));
    const done: string[] = [];
    queue.process(async (j) => {
      if (j.runId === "bad") throw new Error("boom");
      done.push(j.runId);
    }, 1);
    await queue.enqueue(job("bad"), { priority: "critical" });
    await queue.enqueue(job("good"), { priority: "low" });
    await queue.idle();
    expect(done).toEqual(["good"]);
    expect(errors).toEqual([[new Error("boom"), job("bad")]]);
  });

  it("waits in close for the running handlers, and takes no new jobs after it", async () => {
    const queue = newQueue();
    const gate = deferred();
    const seen: string[] = [];
    let finished = false;
    queue.process(async (j) => {
      seen.push(j.runId);
      await gate.promise;
      finished = true;
    }, 1);
    await queue.enqueue(job("r1"), { priority: "medium" });
    await queue.enqueue(job("queued"), { priority: "medium" });
    await settle();
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    await expect(queue.enqueue(job("late"), { priority: "critical" })).rejects.toThrow(/the queue is closed/);
    await queue.idle();
    expect(seen).toEqual(["r1"]);
  });

  it("refuses a second handler and a concurrency below one", () => {
    const queue = newQueue();
    expect(() => queue.process(async () => undefined, 0)).toThrow(RangeError);
    queue.process(async () => undefined, 1);
    expect(() => queue.process(async () => undefined, 1)).toThrow(/already/);
  });
});

describe("MemoryEventBus", () => {
  const event: RunEvent = { type: "run_started", runId: "r1", sop: "deploy", at: 1_000 };

  it("delivers each event to every subscriber in subscription order, even past one that throws", async () => {
    const errors: unknown[] = [];
    const bus = new MemoryEventBus({ onError: (error) => errors.push(error) });
    const seen: string[] = [];
    bus.subscribe(() => seen.push("first"));
    bus.subscribe(() => {
      throw new Error("subscriber broke");
    });
    bus.subscribe(() => seen.push("third"));
    await bus.publish(event);
    expect(seen).toEqual(["first", "third"]);
    expect(errors).toEqual([new Error("subscriber broke")]);
  });

  it("stops delivering to a subscriber once it unsubscribed, and to everyone once closed", async () => {
    const bus = new MemoryEventBus({ onError: () => undefined });
    const seen: string[] = [];
    const off = bus.subscribe((e) => seen.push(`a:${e.type}`));
    bus.subscribe((e) => seen.push(`b:${e.type}`));
    off();
    await bus.publish(event);
    await bus.close();
    await bus.publish(event);
    expect(seen).toEqual(["b:run_started"]);
  });

  it("hands the rejection of an async subscriber to onError", async () => {
    const errors: unknown[] = [];
    const bus = new MemoryEventBus({ onError: (error) => errors.push(error) });
    // The misuse under test: an async subscriber where a sync one is expected.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    bus.subscribe(async () => {
      throw new Error("later");
    });
    await bus.publish(event);
    await settle();
    expect(errors).toEqual([new Error("later")]);
  });
});
