/** What every `RunStore` driver must do with `max_concurrent` slots and the line of queued runs. */
import { describe, expect, it } from "vitest";
import { admitNow, bumped, storedRun } from "./fixtures.ts";
import type { StoreUnderTest } from "./run-store.contract.ts";

export function runStoreSlotContract(subject: StoreUnderTest): void {
  /** What the engine does: take a slot, then mark the run running. */
  async function start(id: string, maxConcurrent: number): Promise<boolean> {
    const { store } = subject;
    if (!(await store.tryStart(id, maxConcurrent))) return false;
    const run = (await store.get(id))!.run;
    return store.update(id, run.revision, bumped(run, { status: "running" }));
  }

  describe("slots and the line", () => {
    it("starts no more runs of a SOP than max_concurrent, and one more after a release", async () => {
      const { store } = subject;
      for (const [i, id] of ["r1", "r2", "r3"].entries()) await store.admit(storedRun(id, { queuedAt: 1_000 + i }), admitNow);
      expect(await start("r1", 2)).toBe(true);
      expect(await start("r2", 2)).toBe(true);
      expect(await store.tryStart("r3", 2)).toBe(false);
      expect(await store.release("r1", 100)).toEqual(["r3"]);
      expect(await store.tryStart("r3", 2)).toBe(true);
    });

    it("gives only one slot when two runs race for the last one", async () => {
      const { store } = subject;
      await store.admit(storedRun("r1", { queuedAt: 1_000 }), admitNow);
      await store.admit(storedRun("r2", { queuedAt: 1_000 }), admitNow);
      const started = await Promise.all([store.tryStart("r1", 1), store.tryStart("r2", 1)]);
      expect(started.filter(Boolean)).toHaveLength(1);
    });

    it("gives exactly 2 slots, to the first two in line, when 50 queued runs keep racing for max_concurrent = 2", async () => {
      const { store } = subject;
      const ids = Array.from({ length: 50 }, (_, i) => `r${String(i).padStart(2, "0")}`);
      await Promise.all(ids.map((id, i) => store.admit(storedRun(id, { queuedAt: 1_000 + (i % 5) }), admitNow)));
      const started = new Set<string>();
      // Only the head of the line may start, so rounds of 50 concurrent tries go on until one changes nothing.
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all(ids.map((id) => store.tryStart(id, 2)));
        const winners = ids.filter((id, i) => results[i] && !started.has(id));
        if (winners.length === 0) break;
        for (const id of winners) started.add(id);
      }
      const line = [...ids].sort((a, b) => Number(a.slice(1)) % 5 - Number(b.slice(1)) % 5 || (a < b ? -1 : 1));
      expect([...started].sort()).toEqual(line.slice(0, 2).sort());
      expect(await store.release("missing", 100)).toEqual([]);
      expect((await store.list({ statuses: ["queued"] })).length).toBe(50);
    });

    it("lets a later critical run go before an earlier low one", async () => {
      const { store } = subject;
      await store.admit(storedRun("low", { priority: "low", queuedAt: 1_000 }), admitNow);
      await store.admit(storedRun("crit", { priority: "critical", queuedAt: 5_000 }), admitNow);
      expect(await store.tryStart("low", 1)).toBe(false);
      expect(await store.tryStart("crit", 1)).toBe(true);
    });

    it("starts runs of equal priority in arrival order", async () => {
      const { store } = subject;
      await store.admit(storedRun("second", { queuedAt: 2_000 }), admitNow);
      await store.admit(storedRun("first", { queuedAt: 1_000 }), admitNow);
      expect(await store.tryStart("second", 1)).toBe(false);
      expect(await store.tryStart("first", 1)).toBe(true);
      expect(await store.tryStart("second", 1)).toBe(false);
    });

    it("with k slots free lets any of the first k in line start, and none behind them", async () => {
      const { store } = subject;
      for (const [id, at] of [["a", 1_000], ["b", 2_000], ["c", 3_000]] as const) await store.admit(storedRun(id, { queuedAt: at }), admitNow);
      expect(await store.tryStart("c", 2)).toBe(false);
      expect(await store.tryStart("b", 2)).toBe(true);
      expect(await store.tryStart("c", 2)).toBe(false);
      expect(await store.tryStart("a", 2)).toBe(true);
    });

    it("names from release only as many queued runs as there are free slots", async () => {
      const { store } = subject;
      await store.admit(storedRun("holder", { queuedAt: 500 }), admitNow);
      await start("holder", 1);
      for (const [id, at] of [["x", 1_000], ["y", 2_000], ["z", 3_000]] as const) await store.admit(storedRun(id, { queuedAt: at }), admitNow);
      for (const id of ["z", "y", "x"]) expect(await store.tryStart(id, 1)).toBe(false);
      expect(await store.release("holder", 2)).toEqual(["x", "y"]);
      // Nudged runs leave the blocked set; whoever is still blocked is named next time.
      expect(await store.release("holder", 2)).toEqual(["z"]);
    });

    it("names from release only runs that tried to start and found no room", async () => {
      const { store } = subject;
      await store.admit(storedRun("holder", { queuedAt: 500 }), admitNow);
      await start("holder", 1);
      await store.admit(storedRun("tried", { queuedAt: 2_000 }), admitNow);
      await store.admit(storedRun("fresh", { queuedAt: 1_000 }), admitNow);
      expect(await store.tryStart("tried", 1)).toBe(false);
      expect(await store.release("holder", 1)).toEqual(["tried"]);
    });

    it("returns the line from release: priority first, then arrival", async () => {
      const { store } = subject;
      await store.admit(storedRun("running", { queuedAt: 500 }), admitNow);
      await start("running", 1);
      await store.admit(storedRun("low", { priority: "low", queuedAt: 1_000 }), admitNow);
      await store.admit(storedRun("high-late", { priority: "high", queuedAt: 3_000 }), admitNow);
      await store.admit(storedRun("high-early", { priority: "high", queuedAt: 2_000 }), admitNow);
      await store.admit(storedRun("crit", { priority: "critical", queuedAt: 4_000 }), admitNow);
      for (const id of ["low", "high-late", "high-early", "crit"]) expect(await store.tryStart(id, 1)).toBe(false);
      expect(await store.release("running", 100)).toEqual(["crit", "high-early", "high-late", "low"]);
    });

    it("says yes again to a run that already holds a slot, and no to a run that is not queued", async () => {
      const { store } = subject;
      await store.admit(storedRun("r1"), admitNow);
      await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
      expect(await start("r1", 1)).toBe(true);
      expect(await store.tryStart("r1", 1)).toBe(true);
      const r2 = (await store.get("r2"))!.run;
      await store.update("r2", 0, bumped(r2, { status: "cancelled" }));
      await store.release("r1", 100);
      expect(await store.tryStart("r2", 1)).toBe(false);
      expect(await store.tryStart("missing", 1)).toBe(false);
    });

    it("takes a run that ends while queued out of the line", async () => {
      const { store } = subject;
      for (const [i, id] of ["holder", "a", "b"].entries()) await store.admit(storedRun(id, { queuedAt: 1_000 + i }), admitNow);
      await start("holder", 1);
      for (const id of ["b", "a"]) expect(await store.tryStart(id, 1)).toBe(false);
      const a = (await store.get("a"))!.run;
      await store.update("a", 0, bumped(a, { status: "cancelled" }));
      expect(await store.release("holder", 100)).toEqual(["b"]);
      expect(await store.tryStart("b", 1)).toBe(true);
    });

    it("puts a run that gives its slot back while still queued back in the line", async () => {
      const { store } = subject;
      await store.admit(storedRun("r1"), admitNow);
      await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
      await store.tryStart("r1", 1);
      expect(await store.tryStart("r2", 1)).toBe(false);
      expect(await store.release("r1", 100)).toEqual(["r1", "r2"]);
    });

    it("counts a slot held by an ended run until it is released, also after a reopen", async () => {
      let { store } = subject;
      await store.admit(storedRun("r1"), admitNow);
      await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
      await store.tryStart("r1", 1);
      const r1 = (await store.get("r1"))!.run;
      await store.update("r1", 0, bumped(r1, { status: "failed" }));
      store = await subject.reopen();
      expect(await store.tryStart("r2", 1)).toBe(false);
      expect(await store.release("r1", 100)).toEqual(["r2"]);
      expect(await store.tryStart("r2", 1)).toBe(true);
    });

    it("keeps the slots of each SOP to itself", async () => {
      const { store } = subject;
      await store.admit(storedRun("d1"), admitNow);
      await store.admit(storedRun("o1", { sop: "other" }), admitNow);
      expect(await start("d1", 1)).toBe(true);
      expect(await start("o1", 1)).toBe(true);
    });
  });
}
