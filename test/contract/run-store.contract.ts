/** What every `RunStore` driver must do: admission, compare-and-set, listing, the chain, persistence. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunStore } from "../../src/ports/run-store.ts";
import { admitNow, bumped, endingOf, endRun, GENESIS, nameSource, startRun, storedRun } from "./fixtures.ts";
import { runStoreHistoryContract } from "./run-store-history.contract.ts";
import { runStoreSlotContract, type StoreUnderTest } from "./run-store-slots.contract.ts";

export interface StoreHandle {
  store: RunStore;
  close(): Promise<void>;
}

/** Opens the store called `name`; opening the same name again after `close` is a reopen (same folder, same prefix). */
export type OpenStore = (name: string) => Promise<StoreHandle>;

export function runStoreContract(driver: string, open: OpenStore): void {
  describe(`RunStore contract (${driver})`, () => {
    const nextName = nameSource("store-");
    let name: string;
    let handle: StoreHandle;
    const subject: StoreUnderTest = {
      get store() {
        return handle.store;
      },
      async reopen() {
        await handle.close();
        handle = await open(name);
        return handle.store;
      },
    };

    beforeEach(async () => {
      name = nextName();
      handle = await open(name);
    });

    afterEach(async () => {
      await handle.close();
    });

    describe("admission", () => {
      it("refuses a run during the cooldown with the seconds remaining, rounded up", async () => {
        const { store } = subject;
        expect(await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 })).toEqual({ accepted: true });
        const refused = await store.admit(storedRun("r2", { queuedAt: 40_500 }), { cooldownSecs: 60, force: false, now: 40_500 });
        expect(refused).toEqual({ accepted: false, reason: "cooldown", retryAfterSecs: 30 });
        expect(await store.get("r2")).toBeUndefined();
        expect(await store.cooldownRemaining("deploy", 60, 40_500)).toBe(30);
      });

      it("accepts a forced run during the cooldown, and that run starts a new cooldown", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 });
        expect(await store.admit(storedRun("r2", { queuedAt: 20_000 }), { cooldownSecs: 60, force: true, now: 20_000 })).toEqual({ accepted: true });
        const refused = await store.admit(storedRun("r3", { queuedAt: 75_000 }), { cooldownSecs: 60, force: false, now: 75_000 });
        expect(refused).toMatchObject({ accepted: false, retryAfterSecs: 5 });
      });

      it("accepts again once the cooldown has passed, and counts ended runs after a reopen", async () => {
        let { store } = subject;
        await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 });
        await endRun(store, "r1");
        store = await subject.reopen();
        expect(await store.cooldownRemaining("deploy", 60, 69_999)).toBe(1);
        expect((await store.admit(storedRun("r2", { queuedAt: 69_999 }), { cooldownSecs: 60, force: false, now: 69_999 })).accepted).toBe(false);
        expect((await store.admit(storedRun("r3", { queuedAt: 70_000 }), { cooldownSecs: 60, force: false, now: 70_000 })).accepted).toBe(true);
      });

      it("accepts exactly one of 50 runs admitted at the same moment under a cooldown", async () => {
        const { store } = subject;
        const opts = { cooldownSecs: 60, force: false, now: 1_000 };
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.admit(storedRun(`r${i}`), opts)));
        expect(results.filter((r) => r.accepted)).toHaveLength(1);
        expect(results.filter((r) => !r.accepted)).toEqual(Array(49).fill({ accepted: false, reason: "cooldown", retryAfterSecs: 60 }));
        expect(await store.list()).toHaveLength(1);
      });

      it("keeps the cooldown of each SOP to itself", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), { cooldownSecs: 60, force: false, now: 1_000 });
        expect((await store.admit(storedRun("o1", { sop: "other" }), { cooldownSecs: 60, force: false, now: 1_000 })).accepted).toBe(true);
      });

      it("refuses a run id that already exists and keeps the first run", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await expect(store.admit(storedRun("r1", { priority: "critical" }), admitNow)).rejects.toThrow(/already exists/);
        expect((await store.get("r1"))?.run.priority).toBe("medium");
      });

      it("gives back exactly what it admitted, as a copy that changing does not change the store", async () => {
        const { store } = subject;
        const admitted = storedRun("r1");
        await store.admit(admitted, admitNow);
        const got = (await store.get("r1"))!;
        expect(got).toEqual(admitted);
        got.run.status = "failed";
        got.definition.steps[0]!.title = "changed";
        expect((await store.get("r1"))?.run.status).toBe("queued");
        expect((await store.get("r1"))?.definition.steps[0]?.title).toBe("Build");
      });
    });

    describe("compare-and-set", () => {
      it("refuses an update made from a stale revision", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        expect(await store.update("r1", 0, bumped(run, { status: "running" }))).toEqual({ ok: true, startable: [] });
        expect(await store.update("r1", 0, bumped(run, { status: "queued", endReason: "late" }))).toEqual({ ok: false, why: "revision" });
        expect((await store.get("r1"))?.run).toMatchObject({ status: "running", revision: 1 });
      });

      it("lets exactly one of 100 concurrent updates from the same revision win, and keeps the winner's state", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        const results = (await Promise.all(Array.from({ length: 100 }, (_, i) => store.update("r1", 0, bumped(run, { endReason: `writer ${i}` }))))).map((r) => r.ok);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.get("r1"))?.run).toMatchObject({ endReason: `writer ${results.indexOf(true)}`, revision: 1 });
      });

      it("refuses an update of a run it does not have", async () => {
        expect(await subject.store.update("nope", 0, storedRun("nope").run)).toEqual({ ok: false, why: "revision" });
      });

      it("refuses to store a state that names another run", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await expect(store.update("r1", 0, storedRun("r2").run)).rejects.toThrow(/names run r2/);
      });
    });

    describe("listing", () => {
      it("lists runs by SOP and status, oldest first", async () => {
        const { store } = subject;
        await store.admit(storedRun("b", { queuedAt: 2_000 }), admitNow);
        await store.admit(storedRun("a", { queuedAt: 3_000 }), admitNow);
        await store.admit(storedRun("o", { sop: "other" }), admitNow);
        await endRun(store, "a");
        expect((await store.list()).map((r) => r.id)).toEqual(["o", "b", "a"]);
        expect((await store.list({ sop: "deploy" })).map((r) => r.id)).toEqual(["b", "a"]);
        expect((await store.list({ statuses: ["queued"] })).map((r) => r.id)).toEqual(["o", "b"]);
      });

      it("orders runs queued at the same moment by id, and follows every status change", async () => {
        const { store } = subject;
        for (const id of ["c", "a", "b"]) await store.admit(storedRun(id, { queuedAt: 5_000, maxConcurrent: 3 }), admitNow);
        const b = bumped((await store.get("b"))!.run, { status: "running" });
        await store.update("b", 0, b);
        await store.update("b", 1, bumped(b, { status: "awaiting_approval" }));
        expect((await store.list({ sop: "deploy" })).map((r) => r.id)).toEqual(["a", "b", "c"]);
        expect((await store.list({ sop: "deploy", statuses: ["awaiting_approval", "awaiting_manual"] })).map((r) => r.id)).toEqual(["b"]);
        expect((await store.list({ sop: "deploy", statuses: ["running"] }))).toEqual([]);
        expect((await store.list({ sop: "missing" }))).toEqual([]);
        expect((await store.list({ statuses: [] }))).toEqual([]);
        expect(await store.count("deploy", ["awaiting_approval", "awaiting_manual"])).toBe(1);
        expect(await store.count("deploy", ["queued"])).toBe(2);
        expect(await store.count("deploy", ["queued", "awaiting_approval"])).toBe(3);
        expect(await store.count("missing", ["queued"])).toBe(0);
      });
    });

    describe("ending a run: its seal joins the chain in the same step", () => {
      it("starts every SOP at seq 0 with the genesis hash", async () => {
        expect(await subject.store.chainHead("deploy")).toEqual({ seq: 0, hash: GENESIS });
        expect(await subject.store.chainHeads()).toEqual(new Map());
      });

      it("seals the ending run, moves the head, keeps the final record and indexes the run by its seq", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const stored = (await store.get("r1"))!;
        const next = bumped(stored.run, { status: "success", completedAt: 9_000 });
        const ending = await endingOf(store, stored, next, "1".repeat(64));
        expect(await store.update("r1", 0, next, ending)).toEqual({ ok: true, startable: [] });
        expect((await store.get("r1"))?.seal).toEqual({ seq: 1, prevHash: GENESIS, hash: "1".repeat(64) });
        expect(await store.finalRecord("r1")).toEqual(ending.record);
        expect(await store.chainHead("deploy")).toEqual({ seq: 1, hash: "1".repeat(64), runId: "r1" });
        expect(await store.chainHeads()).toEqual(new Map([["deploy", { seq: 1, hash: "1".repeat(64), runId: "r1" }]]));
        expect(await store.sealedRuns("deploy", 1, 5)).toEqual([{ seq: 1, runId: "r1" }]);
      });

      it("refuses to end a run from a chain head that moved, and changes nothing then", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
        const stored = (await store.get("r2"))!;
        const next = bumped(stored.run, { status: "cancelled" });
        const stale = await endingOf(store, stored, next, "2".repeat(64));
        await endRun(store, "r1", "success", "1".repeat(64));
        expect(await store.update("r2", 0, next, stale)).toEqual({ ok: false, why: "chain", head: { seq: 1, hash: "1".repeat(64), runId: "r1" } });
        expect(await store.get("r2")).toEqual(stored);
        expect(await store.finalRecord("r2")).toBeUndefined();
        expect(await endRun(store, "r2", "cancelled", "2".repeat(64))).toEqual({ ok: true, startable: [] });
        expect((await store.get("r2"))?.seal).toEqual({ seq: 2, prevHash: "1".repeat(64), hash: "2".repeat(64) });
      });

      it("lets exactly one of 20 runs ending at once from the same head take its seq", async () => {
        const { store } = subject;
        const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
        for (const id of ids) await store.admit(storedRun(id), admitNow);
        const endings = await Promise.all(ids.map(async (id, i) => {
          const stored = (await store.get(id))!;
          const next = bumped(stored.run, { status: "success" });
          return { id, next, ending: await endingOf(store, stored, next, String(i % 10).repeat(64)) };
        }));
        const results = await Promise.all(endings.map(({ id, next, ending }) => store.update(id, 0, next, ending)));
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        const winner = ids[results.findIndex((r) => r.ok)];
        expect(results.filter((r) => !r.ok)).toEqual(Array(19).fill({ ok: false, why: "chain", head: expect.objectContaining({ seq: 1, runId: winner }) }));
        expect((await store.chainHead("deploy")).seq).toBe(1);
      });

      it("refuses to end a run without its seal", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        await expect(store.update("r1", 0, bumped(run, { status: "failed" }))).rejects.toThrow(/seal/);
        expect((await store.get("r1"))?.run.status).toBe("queued");
      });
    });

    describe("deadlines", () => {
      it("lists a run going on once its earliest deadline has passed, and forgets it when it ends", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await store.admit(storedRun("r2", { queuedAt: 2_000, maxConcurrent: 2 }), admitNow);
        const r1 = (await store.get("r1"))!.run;
        const waiting = bumped(r1, {
          status: "running", startedAt: 1_500, timeoutAt: 90_000,
          checkpoints: [{ id: "step:1", kind: "approval", status: "pending", reason: "x", requestedAt: 1_500, deadline: 60_000, approvers: [], minApprovals: 1, allowSelfApproval: true, onTimeout: "deny", by: [], refused: [], required: true }],
        });
        await store.update("r1", 0, waiting);
        expect(await store.overdue(59_999)).toEqual([]);
        expect(await store.overdue(60_000)).toEqual(["r1"]);
        const decided = bumped(waiting, { checkpoints: [{ ...waiting.checkpoints[0]!, status: "approved" }] });
        await store.update("r1", 1, decided);
        expect(await store.overdue(89_999)).toEqual([]);
        expect(await store.overdue(90_000)).toEqual(["r1"]);
        await endRun(store, "r1", "timed_out");
        expect(await store.overdue(1e12)).toEqual([]);
      });
    });

    describe("claims", () => {
      it("gives a run to one owner at a time until the claim expires or is given up", async () => {
        const { store } = subject;
        expect(await store.claim("r1", "a", 1_000, 10_000)).toBe(true);
        expect(await store.claim("r1", "b", 1_000, 10_500)).toBe(false);
        expect(await store.claim("r1", "a", 1_000, 10_600)).toBe(true);
        expect(await store.claims(["r1", "r2"])).toEqual(new Map([["r1", { owner: "a", until: 11_600 }]]));
        expect(await store.claim("r1", "b", 1_000, 11_601)).toBe(true);
        await store.unclaim("r1", "a");
        expect((await store.claims(["r1"])).get("r1")?.owner).toBe("b");
        await store.unclaim("r1", "b");
        expect(await store.claims(["r1"])).toEqual(new Map());
      });

      it("takes, renews and gives up the claim with a change, and refuses a change while another owner holds it", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        const claimOf = (owner: string, now: number, release = false) => ({ owner, ttlMs: 1_000, now, release });
        const running = bumped(run, { status: "running", startedAt: 1_500 });
        expect(await store.update("r1", 0, running, undefined, claimOf("a", 10_000))).toEqual({ ok: true, startable: [] });
        expect(await store.claims(["r1"])).toEqual(new Map([["r1", { owner: "a", until: 11_000 }]]));
        // Another owner's change is refused, whatever else it would be refused for, and changes nothing.
        expect(await store.update("r1", 1, bumped(running, { endReason: "b" }), undefined, claimOf("b", 10_500))).toEqual({ ok: false, why: "claimed" });
        expect((await store.get("r1"))?.run.revision).toBe(1);
        expect((await store.claims(["r1"])).get("r1")).toEqual({ owner: "a", until: 11_000 });
        // A stale revision is refused first, and leaves the claim alone.
        expect(await store.update("r1", 0, running, undefined, claimOf("a", 10_600, true))).toEqual({ ok: false, why: "revision" });
        expect((await store.claims(["r1"])).get("r1")).toEqual({ owner: "a", until: 11_000 });
        // Its holder renews it with a change; a change that is nobody's driver's leaves it as it is.
        const renewed = bumped(running, { endReason: "a" });
        expect((await store.update("r1", 1, renewed, undefined, claimOf("a", 10_700))).ok).toBe(true);
        expect((await store.claims(["r1"])).get("r1")).toEqual({ owner: "a", until: 11_700 });
        const decided = bumped(renewed, { endReason: "decided" });
        expect((await store.update("r1", 2, decided)).ok).toBe(true);
        expect((await store.claims(["r1"])).get("r1")).toEqual({ owner: "a", until: 11_700 });
        // Expired: another owner's change takes it over; then the holder's own release gives it up.
        const taken = bumped(decided, { endReason: "b" });
        expect((await store.update("r1", 3, taken, undefined, claimOf("b", 11_701))).ok).toBe(true);
        expect((await store.claims(["r1"])).get("r1")).toEqual({ owner: "b", until: 12_701 });
        expect(await store.claim("r1", "a", 1_000, 11_800)).toBe(false);
        expect((await store.update("r1", 4, bumped(taken, { endReason: "done" }), undefined, claimOf("b", 11_900, true))).ok).toBe(true);
        expect(await store.claims(["r1"])).toEqual(new Map());
      });

      it("leaves the claim alone when a start is refused for want of a slot", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
        expect(await startRun(store, "r1")).toBe(true);
        const run = (await store.get("r2"))!.run;
        const refused = await store.update("r2", 0, bumped(run, { status: "running" }), undefined, { owner: "a", ttlMs: 1_000, now: 10_000, release: false });
        expect(refused).toEqual({ ok: false, why: "no_slot" });
        expect(await store.claims(["r2"])).toEqual(new Map());
      });

      it("lets exactly one of 20 owners changing a run at once take it", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        // Different states, one revision: the compare-and-set alone would let one win too; the claim says whose it is.
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
          store.update("r1", 0, bumped(run, { status: "running", endReason: `o${i}` }), undefined, { owner: `o${i}`, ttlMs: 5_000, now: 1_000, release: false })));
        const winner = results.findIndex((r) => r.ok);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect((await store.claims(["r1"])).get("r1")?.owner).toBe(`o${winner}`);
      });

      it("grants exactly one of 20 owners claiming at once", async () => {
        const { store } = subject;
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim("r1", `o${i}`, 5_000, 1_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("persistence", () => {
      it("brings back every run, seal, final record, chain head, slot and cooldown after close and reopen", async () => {
        let { store } = subject;
        await store.admit(storedRun("r1"), { cooldownSecs: 60, force: false, now: 1_000 });
        await store.admit(storedRun("r2", { queuedAt: 2_000 }), { cooldownSecs: 60, force: true, now: 2_000 });
        await store.admit(storedRun("r3", { queuedAt: 3_000 }), { cooldownSecs: 60, force: true, now: 3_000 });
        await startRun(store, "r1");
        await endRun(store, "r2", "cancelled", "b".repeat(64));
        const before = [await store.get("r1"), await store.get("r2"), await store.get("r3")];
        const record = await store.finalRecord("r2");

        store = await subject.reopen();

        expect([await store.get("r1"), await store.get("r2"), await store.get("r3")]).toEqual(before);
        expect(await store.finalRecord("r2")).toEqual(record);
        expect(await store.chainHeads()).toEqual(new Map([["deploy", { seq: 1, hash: "b".repeat(64), runId: "r2" }]]));
        expect(await store.sealedRuns("deploy", 1, 1)).toEqual([{ seq: 1, runId: "r2" }]);
        expect(await store.cooldownRemaining("deploy", 60, 3_000)).toBe(60);
        expect((await store.list({ statuses: ["running"] })).map((r) => r.id)).toEqual(["r1"]);
        expect(await startRun(store, "r3")).toBe(false);
        expect(await endRun(store, "r1")).toEqual({ ok: true, startable: ["r3"] });
      });
    });

    runStoreSlotContract(subject);
    runStoreHistoryContract(subject);
  });
}
