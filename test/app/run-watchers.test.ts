import { describe, expect, it } from "vitest";
import { RunWatchers, type SopMarks } from "../../src/app/run-watchers.ts";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { MemoryEventBus } from "../../src/drivers/local/memory-event-bus.ts";

function setup() {
  const bus = new MemoryEventBus({ onError: (error) => { throw error; } });
  let subscriptions = 0;
  const watchers = new RunWatchers((listener) => {
    subscriptions++;
    const stop = bus.subscribe(listener);
    return () => {
      subscriptions--;
      stop();
    };
  });
  const publish = (e: RunEvent) => bus.publish(e);
  return { watchers, publish, subscriptions: () => subscriptions };
}

const at = 0;

describe("callers awaiting runs", () => {
  it("hear every event of their run from the moment they watch it, and none of other runs", async () => {
    const { watchers, publish } = setup();
    const mine = watchers.watch("r1", "deploy");
    await publish({ type: "run_started", runId: "r2", sop: "deploy", at });
    expect(mine.own).toBe(0);
    await publish({ type: "run_started", runId: "r1", sop: "deploy", at });
    await publish({ type: "run_finished", runId: "r1", sop: "deploy", at, status: "success" });
    expect(mine.own).toBe(2);
    expect(mine.last).toMatchObject({ type: "run_finished", status: "success" });
    mine.stop();
  });

  it("do not take the run's admission for a change: the run as admitted still stands", async () => {
    const { watchers, publish } = setup();
    const mine = watchers.watch("r1", "deploy");
    await publish({ type: "run_queued", runId: "r1", sop: "deploy", at });
    expect(mine.own).toBe(0);
    mine.stop();
  });

  it("wake a caller whose run is queued when a run of its SOP starts waiting for a person, not for another SOP's", async () => {
    const { watchers, publish } = setup();
    const mine = watchers.watch("r1", "deploy");
    const before = watchers.sopMarks("deploy");
    mine.others = (m: SopMarks) => m.people !== before.people;
    let woken = false;
    const waiting = mine.next(60_000, "deploy").then(() => (woken = true));
    await publish({ type: "approval_requested", runId: "x", sop: "other", at, checkpoint: "step:1" });
    await Promise.resolve();
    expect(woken).toBe(false);
    await publish({ type: "approval_requested", runId: "r2", sop: "deploy", at, checkpoint: "step:1" });
    await waiting;
    expect(woken).toBe(true);
    mine.stop();
  });

  it("keep, for a run whose SOP is not known yet, where every SOP stood when the watch began", async () => {
    const { watchers, publish } = setup();
    const early = watchers.watch("r0", "deploy");
    await publish({ type: "run_finished", runId: "a", sop: "deploy", at, status: "success" });
    const mine = watchers.watch("r1");
    await publish({ type: "run_finished", runId: "b", sop: "deploy", at, status: "success" });
    expect(mine.startMarks("deploy")).toEqual({ people: 0, finished: 1 });
    expect(watchers.sopMarks("deploy")).toEqual({ people: 0, finished: 2 });
    early.stop();
    mine.stop();
  });

  it("share one subscription to the bus, dropped once nobody waits", () => {
    const { watchers, subscriptions } = setup();
    const watches = Array.from({ length: 300 }, (_, i) => watchers.watch(`r${i}`, "deploy"));
    expect(subscriptions()).toBe(1);
    for (const w of watches) w.stop();
    expect(subscriptions()).toBe(0);
  });
});
