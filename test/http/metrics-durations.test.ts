/**
 * /metrics times runs, steps and approval waits from the events themselves: a server hears every
 * worker's runs on the bus, and reading each run back per event would cost a store read per step.
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { MemoryEventBus } from "../../src/drivers/local/memory-event-bus.ts";
import { BotMetrics, type MetricsSource } from "../../src/http/metrics.ts";
import { until } from "../helpers/until.ts";
import { steps, Workspace } from "../helpers/workspace.ts";

let ws: Workspace | undefined;
let runner: SopRunner | undefined;
let stop: (() => void) | undefined;

afterEach(async () => {
  stop?.();
  await runner?.close();
  await ws?.remove();
  ws = runner = stop = undefined;
});

async function setUp(): Promise<SopRunner> {
  ws = await Workspace.create();
  await ws.addSop("ship", `description = "x"\nexecution_mode = "automatic"\n[approval]\napprovers = ["api:bob"]`, steps(
    "**Build**\n```sh\necho built\n```",
    "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
  ));
  runner = await ws.runner();
  return runner;
}

const line = (text: string, name: string) => text.split("\n").find((l) => l.startsWith(name));

describe("/metrics durations", () => {
  it("are told by the events: a step's start, a decision's request and a run's start come with their ends", async () => {
    const runner = await setUp();
    const heard: RunEvent[] = [];
    runner.events.subscribe((e) => heard.push(e));
    const { run_id } = await runner.execute("ship", { actor: "api:alice" });
    await runner.approve("ship", { actor: "api:bob", runId: run_id, wait: true });
    const run = (await runner.run(run_id))!.run;
    const finished = heard.flatMap((e) => (e.type === "step_finished" ? [e.startedAt] : []));
    expect(finished).toEqual(run.steps.map((s) => s.startedAt));
    const decided = heard.find((e) => e.type === "approval_decided");
    expect(decided?.type === "approval_decided" && decided.requestedAt).toBe(run.checkpoints[0]?.requestedAt);
    const ended = heard.find((e) => e.type === "run_finished");
    expect(ended?.type === "run_finished" && ended.startedAt).toBe(run.startedAt);
  });

  it("time what the events tell without reading the run, so a run this process cannot read is still timed", async () => {
    // A store that has no runs: what the metrics observe can only come from the events.
    const bus = new MemoryEventBus({ onError: (error) => { throw error; } });
    const source: MetricsSource = { events: bus, onAdmission: () => () => undefined, list: () => [], runs: async () => [], run: async () => undefined };
    const metrics = new BotMetrics(source, silentLogger);
    stop = metrics.start();
    const about = { runId: "run-elsewhere", sop: "ship" };
    await bus.publish({ ...about, type: "step_finished", step: 1, status: "success", startedAt: 1_000, at: 4_000 });
    await bus.publish({ ...about, type: "approval_decided", checkpoint: "step:2", status: "approved", by: "api:bob", requestedAt: 4_000, at: 9_000 });
    await bus.publish({ ...about, type: "run_finished", status: "success", startedAt: 1_000, at: 12_000 });
    await until("three durations in /metrics", async () => line(await metrics.text(), 'sop_run_duration_seconds_sum{sop="ship"') !== undefined);
    const text = await metrics.text();
    expect(line(text, 'sop_step_duration_seconds_sum{sop="ship",status="success"}')).toMatch(/ 3$/);
    expect(line(text, 'sop_approval_wait_seconds_sum{sop="ship",decision="approved"}')).toMatch(/ 5$/);
    expect(line(text, 'sop_run_duration_seconds_sum{sop="ship",status="success"}')).toMatch(/ 11$/);
  });
});
