/** What every `WorkQueue` driver must do: priority order, delays, dedupe by id, failures, closing. */
import { afterEach, describe, expect, it } from "vitest";
import type { Job, WorkQueue } from "../../src/ports/work-queue.ts";
import { until } from "../helpers/until.ts";
import { nameSource } from "./fixtures.ts";

export interface QueueHandle {
  queue: WorkQueue;
  close(): Promise<void>;
}

/** Opens a queue called `name`; `onError` receives what handlers threw. */
export type OpenQueue = (name: string, onError: (error: unknown) => void) => Promise<QueueHandle>;

const job = (runId: string): Job => ({ kind: "advance", runId });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function workQueueContract(driver: string, open: OpenQueue): void {
  describe(`WorkQueue contract (${driver})`, () => {
    const nextName = nameSource("queue-");
    const handles: QueueHandle[] = [];
    const errors: unknown[] = [];

    async function newQueue(): Promise<WorkQueue> {
      const handle = await open(nextName(), (error) => errors.push(error));
      handles.push(handle);
      return handle.queue;
    }

    afterEach(async () => {
      await Promise.all(handles.splice(0).map((h) => h.close()));
      errors.length = 0;
    });

    it("runs critical before high before medium before low, first in first out within each", async () => {
      const queue = await newQueue();
      const order: string[] = [];
      await queue.enqueue(job("low-1"), { priority: "low" });
      await queue.enqueue(job("medium-1"), { priority: "medium" });
      await queue.enqueue(job("critical-1"), { priority: "critical" });
      await queue.enqueue(job("low-2"), { priority: "low" });
      await queue.enqueue(job("high-1"), { priority: "high" });
      await queue.enqueue(job("critical-2"), { priority: "critical" });
      await queue.enqueue(job("high-2"), { priority: "high" });
      queue.process(async (j) => void order.push(j.runId), 1);
      await until("all seven jobs ran", () => order.length === 7);
      expect(order).toEqual(["critical-1", "critical-2", "high-1", "high-2", "medium-1", "low-1", "low-2"]);
    });

    it("hands the handler the job as it was enqueued", async () => {
      const queue = await newQueue();
      const seen: Job[] = [];
      queue.process(async (j) => void seen.push(j), 1);
      await queue.enqueue({ kind: "timeout", runId: "r1", checkpoint: "step:2" }, { priority: "high" });
      await until("the job ran", () => seen.length === 1);
      expect(seen).toEqual([{ kind: "timeout", runId: "r1", checkpoint: "step:2" }]);
    });

    it("drops a job whose id already waits, and takes the id again once its job has run", async () => {
      const queue = await newQueue();
      const seen: Job[] = [];
      await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
      await queue.enqueue({ kind: "timeout", runId: "r1", checkpoint: "dup" }, { priority: "critical", id: "r1-advance" });
      await queue.enqueue(job("r2"), { priority: "medium", id: "r2-advance" });
      queue.process(async (j) => void seen.push(j), 1);
      await until("both jobs ran", () => seen.length === 2);
      await queue.enqueue(job("r1-again"), { priority: "medium", id: "r1-advance" });
      await until("the reused id ran", () => seen.length === 3);
      expect(seen).toEqual([job("r1"), job("r2"), job("r1-again")]);
    });

    it("takes a job whose id is running, since the running one may already have looked", async () => {
      const queue = await newQueue();
      const gate = deferred();
      let runs = 0;
      queue.process(async () => {
        runs++;
        if (runs === 1) await gate.promise;
      }, 1);
      await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
      await until("the first job started", () => runs === 1);
      await queue.enqueue(job("r1"), { priority: "medium", id: "r1-advance" });
      gate.resolve();
      await until("the job ran again", () => runs === 2);
    });

    it("runs a delayed job once its delay has passed, and not before", async () => {
      const queue = await newQueue();
      const seen: { runId: string; at: number }[] = [];
      queue.process(async (j) => void seen.push({ runId: j.runId, at: Date.now() }), 1);
      const enqueuedAt = Date.now();
      await queue.enqueue({ kind: "timeout", runId: "later", checkpoint: "step:1" }, { priority: "critical", delayMs: 600 });
      await queue.enqueue(job("now"), { priority: "low" });
      await until("both jobs ran", () => seen.length === 2);
      expect(seen.map((s) => s.runId)).toEqual(["now", "later"]);
      // A little slack for clocks that tick in whole milliseconds on both sides.
      expect(seen[1]!.at - enqueuedAt).toBeGreaterThanOrEqual(590);
    });

    it("counts a delayed job as waiting for dedupe", async () => {
      const queue = await newQueue();
      const seen: string[] = [];
      await queue.enqueue(job("delayed"), { priority: "medium", delayMs: 60_000, id: "r1-timeout" });
      await queue.enqueue(job("dropped"), { priority: "medium", id: "r1-timeout" });
      await queue.enqueue(job("sentinel"), { priority: "medium" });
      queue.process(async (j) => void seen.push(j.runId), 1);
      // FIFO within a priority: had "dropped" been kept, it would have run before the sentinel.
      await until("the sentinel ran", () => seen.includes("sentinel"));
      expect(seen).toEqual(["sentinel"]);
    });

    it("runs no more handlers at once than its concurrency", async () => {
      const queue = await newQueue();
      const gates = Array.from({ length: 5 }, deferred);
      let active = 0;
      let most = 0;
      const started: string[] = [];
      const finished: string[] = [];
      queue.process(async (j) => {
        started.push(j.runId);
        most = Math.max(most, ++active);
        await gates[Number(j.runId)]!.promise;
        active--;
        finished.push(j.runId);
      }, 2);
      for (let i = 0; i < 5; i++) await queue.enqueue(job(String(i)), { priority: "medium" });
      await until("two jobs started", () => started.length === 2);
      expect(started).toEqual(["0", "1"]);
      gates[1]!.resolve();
      await until("a third job started", () => started.length === 3);
      expect(started).toEqual(["0", "1", "2"]);
      for (const gate of gates) gate.resolve();
      await until("all jobs finished", () => finished.length === 5);
      expect(most).toBe(2);
    });

    it("hands a failing handler's error to onError and goes on with the next job", async () => {
      const queue = await newQueue();
      const done: string[] = [];
      queue.process(async (j) => {
        if (j.runId === "bad") throw new Error("boom");
        done.push(j.runId);
      }, 1);
      await queue.enqueue(job("bad"), { priority: "critical" });
      await queue.enqueue(job("good"), { priority: "low" });
      await until("the good job ran", () => done.length === 1);
      await until("the error was reported", () => errors.length === 1);
      expect(done).toEqual(["good"]);
      expect(errors).toEqual([new Error("boom")]);
    });

    it("waits in close for the running handlers, and takes no new jobs after it", async () => {
      const queue = await newQueue();
      const gate = deferred();
      const seen: string[] = [];
      let finished = false;
      queue.process(async (j) => {
        seen.push(j.runId);
        await gate.promise;
        finished = true;
      }, 1);
      await queue.enqueue(job("r1"), { priority: "medium" });
      await until("the first job started", () => seen.length === 1);
      await queue.enqueue(job("queued"), { priority: "medium" });
      let closed = false;
      const closing = queue.close().then(() => (closed = true));
      // A close that did not wait for the handler would be done before another queue, opened after
      // it was called, has been set going and closed from start to end.
      const other = await newQueue();
      other.process(async () => undefined, 1);
      await other.close();
      expect(closed).toBe(false);
      gate.resolve();
      await closing;
      expect(finished).toBe(true);
      await expect(queue.enqueue(job("late"), { priority: "critical" })).rejects.toThrow(/closed/);
      expect(seen).toEqual(["r1"]);
    });

    it("takes the jobs a running handler enqueues while the queue closes, and starts none of them", async () => {
      const queue = await newQueue();
      const gate = deferred();
      const seen: string[] = [];
      let enqueued: Promise<void> | undefined;
      queue.process(async (j) => {
        seen.push(j.runId);
        await gate.promise;
        // What ending a run does: nudge the next one.
        enqueued = queue.enqueue(job("next"), { priority: "medium" });
        await enqueued;
      }, 1);
      await queue.enqueue(job("r1"), { priority: "medium" });
      await until("the first job started", () => seen.length === 1);
      const closing = queue.close();
      gate.resolve();
      await closing;
      await expect(enqueued).resolves.toBeUndefined();
      expect(seen).toEqual(["r1"]);
    });

    it("refuses a second handler, a concurrency below one and an unknown priority", async () => {
      const queue = await newQueue();
      expect(() => queue.process(async () => undefined, 0)).toThrow(RangeError);
      queue.process(async () => undefined, 1);
      expect(() => queue.process(async () => undefined, 1)).toThrow(/already/);
      await expect(queue.enqueue(job("r1"), { priority: "urgent" as never })).rejects.toThrow(RangeError);
    });
  });
}
