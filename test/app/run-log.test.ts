import { describe, expect, it } from "vitest";
import { logRunActivity } from "../../src/app/run-log.ts";
import type { Logger } from "../../src/app/logger.ts";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { MemoryEventBus } from "../../src/drivers/local/memory-event-bus.ts";
import type { RunStore, StoredRun } from "../../src/ports/run-store.ts";
import { until } from "../helpers/until.ts";

/** A store that only answers `get`, counting the reads, with the run as an earlier version's event would need it. */
function storeWith(run: Partial<StoredRun["run"]>) {
  let reads = 0;
  const store = {
    get: (): Promise<StoredRun> => {
      reads++;
      return Promise.resolve({ run, definition: {}, dir: "" } as unknown as StoredRun);
    },
  } as unknown as RunStore;
  return { store, reads: () => reads };
}

function logging(store: RunStore) {
  const bus = new MemoryEventBus({ onError: (error) => { throw error; } });
  const lines: string[] = [];
  const log: Logger = { info: (_o, msg) => lines.push(msg ?? ""), warn() {}, error() {}, debug() {} };
  logRunActivity(bus, store, log);
  return { publish: (e: RunEvent) => bus.publish(e), lines };
}

const base = { runId: "r1", sop: "deploy" };

describe("the run log", () => {
  it("tells a run's acceptance and end from the events alone, without reading the run", async () => {
    const { store, reads } = storeWith({});
    const { publish, lines } = logging(store);
    await publish({ ...base, type: "run_queued", at: 1000, requestedBy: "api:alice", trigger: "manual", source: "api", cooldownForcedBy: "api:root" });
    await publish({ ...base, type: "run_finished", at: 4000, status: "failed", startedAt: 1500, endReason: "step 2 failed" });
    await until("both lines", () => (lines.length === 2 ? lines : undefined));
    expect(lines).toEqual([
      "run r1 of deploy accepted: manual from api, requested by api:alice, forced past the cooldown by api:root",
      "run r1 of deploy finished: failed in 2.5 s (step 2 failed)",
    ]);
    expect(reads()).toBe(0);
  });

  it("reads the run when an event of an earlier version does not say it", async () => {
    const { store, reads } = storeWith({ trigger: { type: "manual", source: "api" }, requestedBy: "api:alice", startedAt: 1500, completedAt: 4000 });
    const { publish, lines } = logging(store);
    await publish({ ...base, type: "run_queued", at: 1000 });
    await publish({ ...base, type: "run_finished", at: 4000, status: "success" });
    await until("both lines", () => (lines.length === 2 ? lines : undefined));
    expect(lines).toEqual([
      "run r1 of deploy accepted: manual from api, requested by api:alice",
      "run r1 of deploy finished: success in 2.5 s",
    ]);
    expect(reads()).toBe(2);
  });
});
