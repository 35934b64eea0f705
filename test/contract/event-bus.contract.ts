/** What every `EventBus` driver must do within one process: fan-out in order, errors aside, unsubscribe, close. */
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/core/run/effects.ts";
import type { EventBus } from "../../src/ports/event-bus.ts";
import { until } from "../helpers/until.ts";
import { nameSource } from "./fixtures.ts";

export interface BusHandle {
  bus: EventBus;
  close(): Promise<void>;
  /** The bus carries events between processes (Redis): a second bus opened on the same name is another process's. */
  shared?: boolean;
}

/** Opens a bus called `name`; `onError` receives what subscribers threw. */
export type OpenBus = (name: string, onError: (error: unknown) => void) => Promise<BusHandle>;

/** A run_started event, or a step_finished one (step 1, success): two kinds the bus carries as they are. */
export const event = (runId: string, type: "run_started" | "step_finished" = "run_started"): RunEvent =>
  type === "run_started" ? { type, runId, sop: "deploy", at: 1_000 } : { type, runId, sop: "deploy", at: 1_000, step: 1, status: "success" };

export function eventBusContract(driver: string, open: OpenBus): void {
  describe(`EventBus contract (${driver})`, () => {
    const nextName = nameSource("bus-");
    const handles: BusHandle[] = [];
    const errors: unknown[] = [];

    async function openBus(name = nextName()): Promise<BusHandle> {
      const handle = await open(name, (error) => errors.push(error));
      handles.push(handle);
      return handle;
    }

    async function newBus(): Promise<EventBus> {
      return (await openBus()).bus;
    }

    afterEach(async () => {
      await Promise.all(handles.splice(0).map((h) => h.close()));
      errors.length = 0;
    });

    it("delivers each event to every subscriber in subscription order, even past one that throws", async () => {
      const bus = await newBus();
      const seen: string[] = [];
      bus.subscribe((e) => seen.push(`first:${e.runId}`));
      bus.subscribe(() => {
        throw new Error("subscriber broke");
      });
      bus.subscribe((e) => seen.push(`third:${e.runId}`));
      await bus.publish(event("r1"));
      await bus.publish(event("r2"));
      expect(seen).toEqual(["first:r1", "third:r1", "first:r2", "third:r2"]);
      expect(errors).toEqual([new Error("subscriber broke"), new Error("subscriber broke")]);
    });

    it("has told this process's subscribers by the time publish resolves, and only once", async () => {
      const name = nextName();
      const handle = await openBus(name);
      const bus = handle.bus;
      const seen: RunEvent[] = [];
      bus.subscribe((e) => seen.push(e));
      await bus.publish(event("r1", "step_finished"));
      expect(seen).toEqual([event("r1", "step_finished")]);
      const expected = [event("r1", "step_finished")];
      if (handle.shared) {
        // The backend hands a subscriber its messages in order: an echo of r1 would come before
        // what another process publishes after it.
        const other = await openBus(name);
        await other.bus.publish(event("from-other"));
        await until("the other process's event", () => seen.length > 1);
        expected.push(event("from-other"));
      }
      await bus.publish(event("r2"));
      expect(seen).toEqual([...expected, event("r2")]);
    });

    it("stops delivering to a subscriber once it unsubscribed, and to everyone once closed", async () => {
      const bus = await newBus();
      const seen: string[] = [];
      const off = bus.subscribe((e) => seen.push(`a:${e.type}`));
      bus.subscribe((e) => seen.push(`b:${e.type}`));
      off();
      await bus.publish(event("r1"));
      await bus.close();
      await bus.publish(event("r1"));
      expect(seen).toEqual(["b:run_started"]);
    });

    it("hands the rejection of an async subscriber to onError", async () => {
      const bus = await newBus();
      // The misuse under test: an async subscriber where a sync one is expected.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      bus.subscribe(async () => {
        throw new Error("later");
      });
      await bus.publish(event("r1"));
      await until("the rejection was reported", () => errors.length === 1);
      expect(errors).toEqual([new Error("later")]);
    });
  });
}
