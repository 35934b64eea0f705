/** What every `RunStore` driver must do with `max_concurrent` slots and the line of queued runs. */
import { describe, expect, it } from "vitest";
import type { RunStore } from "../../src/ports/run-store.ts";
import { admitNow, bumped, endRun, startRun, storedRun } from "./fixtures.ts";

/** A store under test that a test may close and reopen. */
export interface StoreUnderTest {
  readonly store: RunStore;
  reopen(): Promise<RunStore>;
}

export function runStoreSlotContract(subject: StoreUnderTest): void {
  const admit = (id: string, opts: Parameters<typeof storedRun>[1] = {}) => subject.store.admit(storedRun(id, opts), admitNow);
  const start = (id: string) => startRun(subject.store, id);

  describe("slots and the line", () => {
    it("starts no more runs of an SOP than max_concurrent, and names the next in line when one ends", async () => {
      for (const [i, id] of ["r1", "r2", "r3"].entries()) await admit(id, { queuedAt: 1_000 + i, maxConcurrent: 2 });
      expect(await start("r1")).toBe(true);
      expect(await start("r2")).toBe(true);
      expect(await start("r3")).toBe(false);
      expect((await subject.store.get("r3"))?.run.status).toBe("queued");
      expect(await endRun(subject.store, "r1")).toEqual({ ok: true, startable: ["r3"] });
      expect(await start("r3")).toBe(true);
    });

    it("counts runs that wait for a person as holding a slot", async () => {
      const { store } = subject;
      await admit("waiting");
      await admit("next", { queuedAt: 2_000 });
      expect(await start("waiting")).toBe(true);
      const run = (await store.get("waiting"))!.run;
      expect((await store.update("waiting", run.revision, bumped(run, { status: "awaiting_approval" }))).ok).toBe(true);
      expect(await start("next")).toBe(false);
      expect(await store.startable("deploy")).toEqual([]);
    });

    it("gives only one slot when two runs race for the last one", async () => {
      await admit("r1", { queuedAt: 1_000 });
      await admit("r2", { queuedAt: 1_000 });
      const started = await Promise.all([start("r1"), start("r2")]);
      expect(started.filter(Boolean)).toHaveLength(1);
    });

    it("gives exactly 2 slots, to the first two in line, when 50 queued runs keep racing for max_concurrent = 2", async () => {
      const { store } = subject;
      const ids = Array.from({ length: 50 }, (_, i) => `r${String(i).padStart(2, "0")}`);
      await Promise.all(ids.map((id, i) => admit(id, { queuedAt: 1_000 + (i % 5), maxConcurrent: 2 })));
      const started = new Set<string>();
      // Only the head of the line may start, so rounds of 50 concurrent tries go on until one changes nothing.
      for (let round = 0; round < 10; round++) {
        const queued = ids.filter((id) => !started.has(id));
        const results = await Promise.all(queued.map((id) => start(id)));
        const winners = queued.filter((_, i) => results[i]);
        if (winners.length === 0) break;
        for (const id of winners) started.add(id);
      }
      const line = [...ids].sort((a, b) => Number(a.slice(1)) % 5 - Number(b.slice(1)) % 5 || (a < b ? -1 : 1));
      expect([...started].sort()).toEqual(line.slice(0, 2).sort());
      expect((await store.list({ statuses: ["queued"] })).length).toBe(48);
    });

    it("lets a later critical run go before an earlier low one", async () => {
      await admit("low", { priority: "low", queuedAt: 1_000 });
      await admit("crit", { priority: "critical", queuedAt: 5_000 });
      expect(await start("low")).toBe(false);
      expect(await start("crit")).toBe(true);
    });

    it("starts runs of equal priority in arrival order", async () => {
      await admit("second", { queuedAt: 2_000 });
      await admit("first", { queuedAt: 1_000 });
      expect(await start("second")).toBe(false);
      expect(await start("first")).toBe(true);
      expect(await start("second")).toBe(false);
    });

    it("with k slots free lets any of the first k in line start, and none behind them", async () => {
      for (const [id, at] of [["a", 1_000], ["b", 2_000], ["c", 3_000]] as const) await admit(id, { queuedAt: at, maxConcurrent: 2 });
      expect(await subject.store.startable("deploy")).toEqual(["a", "b"]);
      expect(await start("c")).toBe(false);
      expect(await start("b")).toBe(true);
      expect(await start("c")).toBe(false);
      expect(await start("a")).toBe(true);
    });

    it("names, when a run ends, as many runs refused a slot as there are free slots, in line order: priority first, then arrival", async () => {
      await admit("holder", { queuedAt: 500, maxConcurrent: 2 });
      await admit("other", { queuedAt: 600, maxConcurrent: 2 });
      await start("holder");
      await start("other");
      await admit("low", { priority: "low", queuedAt: 1_000, maxConcurrent: 2 });
      await admit("high-late", { priority: "high", queuedAt: 3_000, maxConcurrent: 2 });
      await admit("high-early", { priority: "high", queuedAt: 2_000, maxConcurrent: 2 });
      await admit("crit", { priority: "critical", queuedAt: 4_000, maxConcurrent: 2 });
      for (const id of ["low", "high-late", "high-early", "crit"]) expect(await start(id)).toBe(false);
      expect(await subject.store.startable("deploy")).toEqual([]);
      expect(await endRun(subject.store, "holder")).toEqual({ ok: true, startable: ["crit"] });
      // crit was nudged already; it has not started yet, so two slots are free.
      expect(await endRun(subject.store, "other")).toEqual({ ok: true, startable: ["high-early", "high-late"] });
      expect(await subject.store.startable("deploy")).toEqual(["crit", "high-early"]);
    });

    it("names, when a run ends, only runs that were refused a slot: one that never tried has a nudge of its own on the way", async () => {
      await admit("holder", { queuedAt: 500 });
      await start("holder");
      await admit("fresh", { queuedAt: 1_000 });
      await admit("tried", { queuedAt: 2_000 });
      expect(await start("tried")).toBe(false);
      expect(await endRun(subject.store, "holder")).toEqual({ ok: true, startable: ["tried"] });
      // The sweep, which looks for lost nudges, names the head of the line whatever tried.
      expect(await subject.store.startable("deploy")).toEqual(["fresh"]);
    });

    it("takes a run that ends while queued out of the line", async () => {
      for (const [i, id] of ["holder", "a", "b"].entries()) await admit(id, { queuedAt: 1_000 + i });
      await start("holder");
      for (const id of ["b", "a"]) expect(await start(id)).toBe(false);
      expect(await endRun(subject.store, "a", "cancelled")).toEqual({ ok: true, startable: [] });
      expect(await endRun(subject.store, "holder")).toEqual({ ok: true, startable: ["b"] });
      expect(await start("b")).toBe(true);
    });

    it("frees the slot of a run that ended, also after a reopen", async () => {
      await admit("r1");
      await admit("r2", { queuedAt: 2_000 });
      await start("r1");
      await endRun(subject.store, "r1", "failed");
      const store = await subject.reopen();
      expect(await store.startable("deploy")).toEqual(["r2"]);
      expect(await startRun(store, "r2")).toBe(true);
    });

    it("keeps the slots of each SOP to itself", async () => {
      await admit("d1");
      await admit("o1", { sop: "other" });
      expect(await start("d1")).toBe(true);
      expect(await start("o1")).toBe(true);
      expect(await subject.store.startable("missing")).toEqual([]);
    });
  });
}
