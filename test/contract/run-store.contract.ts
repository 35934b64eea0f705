/** What every `RunStore` driver must do: admission, compare-and-set, listing, the chain, persistence. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunStore } from "../../src/ports/run-store.ts";
import { admitNow, bumped, GENESIS, nameSource, storedRun } from "./fixtures.ts";
import { runStoreSlotContract } from "./run-store-slots.contract.ts";

export interface StoreHandle {
  store: RunStore;
  close(): Promise<void>;
}

/** Opens the store called `name`; opening the same name again after `close` is a reopen (same folder, same prefix). */
export type OpenStore = (name: string) => Promise<StoreHandle>;

/** A store under test that a test may close and reopen. */
export interface StoreUnderTest {
  readonly store: RunStore;
  reopen(): Promise<RunStore>;
}

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
        const run = (await store.get("r1"))!.run;
        await store.update("r1", 0, bumped(run, { status: "success" }));
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
        expect(await store.update("r1", 0, bumped(run, { status: "running" }))).toBe(true);
        expect(await store.update("r1", 0, bumped(run, { status: "cancelled" }))).toBe(false);
        expect((await store.get("r1"))?.run).toMatchObject({ status: "running", revision: 1 });
      });

      it("lets exactly one of 100 concurrent updates from the same revision win, and keeps the winner's state", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        const run = (await store.get("r1"))!.run;
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.update("r1", 0, bumped(run, { endReason: `writer ${i}` }))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.get("r1"))?.run).toMatchObject({ endReason: `writer ${results.indexOf(true)}`, revision: 1 });
      });

      it("refuses an update of a run it does not have", async () => {
        expect(await subject.store.update("nope", 0, storedRun("nope").run)).toBe(false);
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
        const a = (await store.get("a"))!.run;
        await store.update("a", 0, bumped(a, { status: "success" }));
        expect((await store.list()).map((r) => r.id)).toEqual(["o", "b", "a"]);
        expect((await store.list({ sop: "deploy" })).map((r) => r.id)).toEqual(["b", "a"]);
        expect((await store.list({ statuses: ["queued"] })).map((r) => r.id)).toEqual(["o", "b"]);
      });

      it("orders runs queued at the same moment by id, and follows every status change", async () => {
        const { store } = subject;
        for (const id of ["c", "a", "b"]) await store.admit(storedRun(id, { queuedAt: 5_000 }), admitNow);
        const b = bumped((await store.get("b"))!.run, { status: "running" });
        await store.update("b", 0, b);
        await store.update("b", 1, bumped(b, { status: "awaiting_approval" }));
        expect((await store.list({ sop: "deploy" })).map((r) => r.id)).toEqual(["a", "b", "c"]);
        expect((await store.list({ sop: "deploy", statuses: ["awaiting_approval", "awaiting_manual"] })).map((r) => r.id)).toEqual(["b"]);
        expect((await store.list({ sop: "deploy", statuses: ["running"] }))).toEqual([]);
        expect((await store.list({ sop: "missing" }))).toEqual([]);
        expect((await store.list({ statuses: [] }))).toEqual([]);
      });
    });

    describe("audit chain", () => {
      it("starts every SOP at seq 0 with the genesis hash", async () => {
        expect(await subject.store.chainHead("deploy")).toEqual({ seq: 0, hash: GENESIS });
        expect(await subject.store.chainHeads()).toEqual(new Map());
      });

      it("moves the head only from the head it expected", async () => {
        const { store } = subject;
        const first = { seq: 1, hash: "1".repeat(64), runId: "r1", prevHash: GENESIS };
        expect(await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, first)).toBe(true);
        const rival = { seq: 1, hash: "9".repeat(64), runId: "r9", prevHash: GENESIS };
        expect(await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, rival)).toBe(false);
        expect(await store.chainHead("deploy")).toEqual(first);
        expect(await store.chainHeads()).toEqual(new Map([["deploy", first]]));
      });

      it("lets exactly one of 20 concurrent moves from the same head win", async () => {
        const { store } = subject;
        const nexts = Array.from({ length: 20 }, (_, i) => ({ seq: 1, hash: String(i % 10).repeat(64), runId: `r${i}`, prevHash: GENESIS }));
        const results = await Promise.all(nexts.map((next) => store.advanceChain("deploy", { seq: 0, hash: GENESIS }, next)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.chainHead("deploy")).toEqual(nexts[results.indexOf(true)]);
      });

      it("seals a run it has and refuses to seal one it does not", async () => {
        const { store } = subject;
        await store.admit(storedRun("r1"), admitNow);
        await store.setSeal("r1", { seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
        expect((await store.get("r1"))?.seal).toEqual({ seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
        await expect(store.setSeal("nope", { seq: 2, prevHash: GENESIS, hash: "c".repeat(64) })).rejects.toThrow(/no such run/);
      });
    });

    describe("persistence", () => {
      it("brings back every run, slot, seal, chain head and cooldown after close and reopen", async () => {
        let { store } = subject;
        await store.admit(storedRun("r1"), { cooldownSecs: 60, force: false, now: 1_000 });
        await store.admit(storedRun("r2", { queuedAt: 2_000 }), { cooldownSecs: 60, force: true, now: 2_000 });
        expect(await store.tryStart("r1", 1)).toBe(true);
        const r1 = (await store.get("r1"))!.run;
        await store.update("r1", 0, bumped(r1, { status: "running", startedAt: 1_500, outputVars: { tag: "v1" } }));
        await store.setSeal("r2", { seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
        const head = { seq: 1, hash: "b".repeat(64), runId: "r2", prevHash: GENESIS };
        await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, head);
        const before = [await store.get("r1"), await store.get("r2")];

        store = await subject.reopen();

        expect([await store.get("r1"), await store.get("r2")]).toEqual(before);
        expect((await store.get("r1"))?.holdsSlot).toBe(true);
        expect(await store.chainHeads()).toEqual(new Map([["deploy", head]]));
        expect(await store.cooldownRemaining("deploy", 60, 2_000)).toBe(60);
        expect((await store.list({ statuses: ["running"] })).map((r) => r.id)).toEqual(["r1"]);
        expect(await store.tryStart("r2", 1)).toBe(false);
        expect(await store.release("r1", 100)).toEqual(["r2"]);
      });
    });

    runStoreSlotContract(subject);
  });
}
