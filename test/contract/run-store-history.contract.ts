/** What every `RunStore` driver must do with history: pages newest first, and retention's prune. */
import { describe, expect, it } from "vitest";
import { InvalidCursorError } from "../../src/core/run/run-cursor.ts";
import type { RunStatus } from "../../src/core/run/run-state.ts";
import type { RunPageQuery, RunStore } from "../../src/ports/run-store.ts";
import { admitNow, bumped, endingOf, storedRun } from "./fixtures.ts";
import type { StoreUnderTest } from "./run-store-slots.contract.ts";

/** Ends a queued run (as a cancel does) at `completedAt`. */
async function endAt(store: RunStore, id: string, completedAt: number, status: RunStatus = "cancelled"): Promise<void> {
  const stored = (await store.get(id))!;
  const next = bumped(stored.run, { status, completedAt });
  const outcome = await store.update(id, stored.run.revision, next, await endingOf(store, stored, next, id.padEnd(64, "f")));
  if (!outcome.ok) throw new Error(`could not end ${id}: ${outcome.why}`);
}

/** Every id, page after page. */
async function allPages(store: RunStore, query: Omit<RunPageQuery, "cursor">, between?: (page: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const found = await store.page({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...found.runs.map((r) => r.id));
    if (found.next === undefined) return ids;
    cursor = found.next;
    await between?.(page);
  }
  throw new Error("paging did not end");
}

export function runStoreHistoryContract(subject: StoreUnderTest): void {
  const admit = (id: string, opts: Parameters<typeof storedRun>[1] = {}) => subject.store.admit(storedRun(id, { maxConcurrent: 5, ...opts }), admitNow);

  describe("history pages", () => {
    it("pages runs newest first, with a cursor to the next page and none after the last", async () => {
      const { store } = subject;
      for (let i = 1; i <= 5; i++) await admit(`r${i}`, { queuedAt: 1_000 * i });
      const first = await store.page({ limit: 2 });
      expect(first.runs.map((r) => r.id)).toEqual(["r5", "r4"]);
      const second = await store.page({ limit: 2, cursor: first.next! });
      expect(second.runs.map((r) => r.id)).toEqual(["r3", "r2"]);
      const third = await store.page({ limit: 2, cursor: second.next! });
      expect(third).toEqual({ runs: [expect.objectContaining({ id: "r1", status: "queued" })] });
      expect(await store.page({ limit: 5 })).not.toHaveProperty("next");
      expect(await store.page({ limit: 3, sop: "missing" })).toEqual({ runs: [] });
    });

    it("filters a page by SOP, by status, and by both", async () => {
      const { store } = subject;
      await admit("d1", { queuedAt: 1_000 });
      await admit("o1", { queuedAt: 2_000, sop: "other" });
      await admit("d2", { queuedAt: 3_000 });
      await admit("o2", { queuedAt: 4_000, sop: "other" });
      await endAt(store, "d1", 5_000, "success");
      await endAt(store, "o2", 6_000, "failed");
      const ids = async (q: Omit<RunPageQuery, "limit">) => (await store.page({ limit: 10, ...q })).runs.map((r) => r.id);
      expect(await ids({})).toEqual(["o2", "d2", "o1", "d1"]);
      expect(await ids({ sop: "deploy" })).toEqual(["d2", "d1"]);
      expect(await ids({ statuses: ["success", "failed"] })).toEqual(["o2", "d1"]);
      expect(await ids({ statuses: ["queued"] })).toEqual(["d2", "o1"]);
      expect(await ids({ sop: "other", statuses: ["queued", "failed"] })).toEqual(["o2", "o1"]);
      expect(await ids({ sop: "deploy", statuses: [] })).toEqual([]);
      expect((await store.page({ limit: 1, statuses: ["success", "failed"] })).runs[0]).toMatchObject({ id: "o2", status: "failed", completedAt: 6_000 });
    });

    it("yields each run once while paging, however many runs arrive meanwhile, runs queued at the same moment too", async () => {
      const { store } = subject;
      const before: string[] = [];
      for (let i = 0; i < 12; i++) {
        const id = `old${String(i).padStart(2, "0")}`;
        before.push(id);
        await admit(id, { queuedAt: 1_000 + Math.floor(i / 3) });
      }
      let n = 0;
      const seen = await allPages(store, { limit: 4 }, async () => {
        for (let i = 0; i < 3; i++) await admit(`new${n++}`, { queuedAt: 50_000 + n });
        await admit(`same${n++}`, { queuedAt: 1_003 });
      });
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => id.startsWith("old")).sort()).toEqual(before);
      expect(seen.slice(0, 4)).toEqual(["old11", "old10", "old09", "old08"]);
    });

    it("refuses a cursor it did not give, saying so", async () => {
      const { store } = subject;
      await admit("r1");
      await expect(store.page({ limit: 1, cursor: "not a cursor" })).rejects.toThrow(InvalidCursorError);
      await expect(store.page({ limit: 1, cursor: "bm9wZQ" })).rejects.toThrow(/not one this server gave/);
      await expect(store.page({ limit: 0 })).rejects.toThrow(RangeError);
    });

    it("says which runs ended since a time", async () => {
      const { store } = subject;
      for (const id of ["a", "b", "c"]) await admit(id);
      await endAt(store, "a", 5_000);
      await endAt(store, "b", 7_000);
      expect((await store.endedSince(6_000)).sort()).toEqual(["b"]);
      expect((await store.endedSince(0)).sort()).toEqual(["a", "b"]);
    });
  });

  describe("pruning", () => {
    it("prunes only ended runs that ended before the cutoff and whose audit files are marked written", async () => {
      let { store } = subject;
      for (const id of ["old1", "old2", "recent", "open", "unaudited"]) await admit(id);
      await endAt(store, "old1", 1_000);
      await endAt(store, "old2", 2_000, "success");
      await endAt(store, "recent", 9_000);
      await endAt(store, "unaudited", 1_500);
      await store.markAudited("deploy", 3);
      await store.markAudited("deploy", 1);
      const head = await store.chainHead("deploy");
      const pruned = await store.prune({ endedBefore: 5_000, limit: 100 });
      expect(pruned.map((p) => p.runId).sort()).toEqual(["old1", "old2"]);
      expect(pruned[0]?.sop).toBe("deploy");
      expect(await store.prune({ endedBefore: 5_000, limit: 100 })).toEqual([]);
      const check = async (s: RunStore) => {
        expect(await s.get("old1")).toBeUndefined();
        expect(await s.finalRecord("old2")).toBeUndefined();
        expect((await s.page({ limit: 10 })).runs.map((r) => r.id).sort()).toEqual(["open", "recent", "unaudited"]);
        expect((await s.list()).map((r) => r.id).sort()).toEqual(["open", "recent", "unaudited"]);
        expect(await s.count("deploy", ["cancelled", "success"])).toBe(2);
        expect((await s.sealedRuns("deploy", 1, 10)).map((r) => r.runId)).toEqual(["recent", "unaudited"]);
        expect(await s.chainHead("deploy")).toEqual(head);
        expect(await s.endedSince(0)).not.toContain("old1");
      };
      await check(store);
      await check((store = await subject.reopen()));
      expect((await store.get("open"))?.run.status).toBe("queued");
      await store.markAudited("deploy", 4);
      expect((await store.prune({ endedBefore: 5_000, limit: 100 })).map((p) => p.runId)).toEqual(["unaudited"]);
    });

    it("prunes at most the limit per call, and each run once when prunes run at once", async () => {
      const { store } = subject;
      for (let i = 0; i < 7; i++) {
        await admit(`r${i}`, { queuedAt: 1_000 + i });
        await endAt(store, `r${i}`, 2_000 + i);
      }
      await store.markAudited("deploy", 7);
      expect(await store.prune({ endedBefore: 10_000, limit: 2 })).toHaveLength(2);
      const rest = await Promise.all([1, 2, 3].map(() => store.prune({ endedBefore: 10_000, limit: 10 })));
      const ids = rest.flat().map((p) => p.runId);
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(5);
      expect(await store.page({ limit: 10 })).toEqual({ runs: [] });
    });

    it("keeps the cooldown and the chain of an SOP whose runs were all pruned", async () => {
      let { store } = subject;
      await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 });
      await endAt(store, "r1", 11_000);
      await store.markAudited("deploy", 1);
      expect(await store.prune({ endedBefore: 20_000, limit: 10 })).toHaveLength(1);
      store = await subject.reopen();
      expect(await store.cooldownRemaining("deploy", 60, 40_000)).toBe(30);
      expect((await store.chainHead("deploy")).seq).toBe(1);
      await store.admit(storedRun("r2", { queuedAt: 80_000 }), { cooldownSecs: 60, force: false, now: 80_000 });
      await endAt(store, "r2", 81_000);
      expect((await store.chainHead("deploy")).seq).toBe(2);
    });
  });
}
