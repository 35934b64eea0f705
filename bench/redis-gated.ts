/**
 * What the two Redis approval benchmarks share: an SOP whose only step waits for an approval,
 * runs started until they wait, one approval timed to the step's start, and the floor any
 * approval over BullMQ pays (one job from `add` to its worker), measured on the same Redis.
 */
import { performance } from "node:perf_hooks";
import { Queue, Worker } from "bullmq";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { GATED, nextEvent } from "./gated-sop.ts";
import { connect } from "./redis-env.ts";
import { collectGarbage } from "./stats.ts";

/**
 * Starts `count` runs one after another, each until it waits at its gate. (Started all at once,
 * they queue in the SOP's line and start one by one anyway; see the redis-throughput figure.)
 */
export async function startWaiting(runner: SopRunner, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await runner.execute(GATED, { wait: true });
    if (r.status !== "awaiting_approval") throw new Error(`run ${r.run_id} is ${r.status}, not awaiting_approval`);
    ids.push(r.run_id);
  }
  return ids;
}

export interface ApprovalTiming {
  /** approve() called → the run's step_started. */
  total: number;
  /** approve() called → approval_decided (the decision stored and announced). */
  decided: number;
}

/** Approves one run and times it; waits for the run to end, so runs never overlap. */
export async function approveOne(runner: SopRunner, runId: string): Promise<ApprovalTiming> {
  const decidedAt = nextEvent(runner, runId, "approval_decided");
  const started = nextEvent(runner, runId, "step_started");
  const ended = nextEvent(runner, runId, "run_finished");
  const t0 = performance.now();
  const approving = runner.approve(GATED, { runId });
  const total = (await started) - t0;
  const decided = (await decidedAt) - t0;
  await approving;
  await ended;
  return { total, decided };
}

/**
 * The floor: one BullMQ job from `queue.add` to its processor being called, one at a time, on
 * an idle worker with the given concurrency (what an approval's "advance run X" job goes through).
 */
export async function bullmqHandOffs(prefix: string, count: number, concurrency: number): Promise<number[]> {
  const connection = connect();
  const queue = new Queue("handoff", { connection, prefix });
  let arrived: (at: number) => void = () => undefined;
  let completed: () => void = () => undefined;
  const worker = new Worker("handoff", async () => {
    arrived(performance.now());
  }, { connection, prefix, concurrency });
  worker.on("completed", () => completed());
  try {
    await worker.waitUntilReady();
    // Like an approval, each job finds the worker idle: the previous one has completed.
    const once = async (): Promise<number> => {
      const got = new Promise<number>((resolve) => (arrived = resolve));
      const done = new Promise<void>((resolve) => (completed = resolve));
      const t0 = performance.now();
      await queue.add("advance", {}, { priority: 3, removeOnComplete: true });
      const latency = (await got) - t0;
      await done;
      return latency;
    };
    for (let i = 0; i < 20; i++) await once();
    collectGarbage();
    const samples: number[] = [];
    for (let i = 0; i < count; i++) samples.push(await once());
    return samples;
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}
