/**
 * A write whose reply a dropped connection lost is sent again: ioredis resends the commands still
 * unanswered when it reconnects (`autoResendUnfulfilledCommands`, on by default), so Redis may
 * run the same script twice. Played here on one connection: the command goes out twice, and the
 * caller gets the second reply, as after a resend. Each write must be answered as it was the
 * first time and change nothing more; otherwise the engine takes a change that landed for a
 * conflict (no events, no nudges, an approval that counted answered as refused).
 */
import { Command, Redis } from "ioredis";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { RedisRunStore } from "../../src/drivers/redis/index.ts";
import { admitNow, bumped, endRun, startRun, storedRun } from "../contract/fixtures.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";

const url = await redisUrlForTests();

/** The next script call on `redis` is run twice; its caller gets the second reply. */
function sendNextScriptTwice(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    if (command.name !== "evalsha") return send(command, stream);
    redis.sendCommand = send;
    const lost = new Command(command.name, [...command.args]);
    lost.promise.catch(() => undefined);
    void send(lost);
    return send(command, stream);
  };
}

if (url === undefined) {
  describe.skip("Redis writes sent twice", () => {
    it("needs a Redis: see the REDIS SUITES SKIPPED line", () => undefined);
  });
} else {
  const redisUrl = url;
  describe("Redis writes sent twice", () => {
    const filePrefix = testPrefix();
    let n = 0;
    let redis: Redis;
    let store: RedisRunStore;

    beforeEach(async () => {
      redis = new Redis(redisUrl);
      store = new RedisRunStore(redis, { prefix: `${filePrefix}-${++n}` });
      // Loaded once, so each command below goes out as EVALSHA.
      await store.admit(storedRun("warm-up"), admitNow);
      await startRun(store, "warm-up");
      await endRun(store, "warm-up");
    });
    afterEach(async () => {
      await store.close();
      await redis.quit();
    });
    afterAll(async () => {
      await deleteKeys(redisUrl, filePrefix);
    });

    it("admits a run once and answers the admission sent again as accepted", async () => {
      sendNextScriptTwice(redis);
      expect(await store.admit(storedRun("r1"), admitNow)).toEqual({ accepted: true });
      expect((await store.list({ statuses: ["queued"] })).map((r) => r.id)).toEqual(["r1"]);
      // Another admission of the same id is still refused.
      await expect(store.admit(storedRun("r1"), admitNow)).rejects.toThrow(/already exists/);
    });

    it("applies a transition once and answers it sent again as it did the first time", async () => {
      await store.admit(storedRun("r1"), admitNow);
      const { run } = (await store.get("r1"))!;
      sendNextScriptTwice(redis);
      expect(await store.update("r1", 0, bumped(run, { status: "running", startedAt: 1_500 }))).toEqual({ ok: true, startable: [] });
      expect((await store.get("r1"))!.run).toMatchObject({ status: "running", revision: 1 });
      // A different write from the revision that write replaced is still refused.
      expect(await store.update("r1", 0, bumped(run, { status: "cancelled", completedAt: 2_000 }))).toEqual({ ok: false, why: "revision" });
    });

    it("seals an ending once and names the same runs to start when it is sent again", async () => {
      await store.admit(storedRun("r1"), admitNow);
      await store.admit(storedRun("r2", { queuedAt: 1_001 }), admitNow);
      expect(await startRun(store, "r1")).toBe(true);
      expect(await startRun(store, "r2")).toBe(false); // no slot: r2 waits for r1's
      const head = await store.chainHead("deploy");

      sendNextScriptTwice(redis);
      expect(await endRun(store, "r1")).toEqual({ ok: true, startable: ["r2"] });
      expect(await store.chainHead("deploy")).toMatchObject({ seq: head.seq + 1, runId: "r1" });
      expect(await store.sealedRuns("deploy", head.seq + 1, head.seq + 5)).toEqual([{ seq: head.seq + 1, runId: "r1" }]);
    });
  });
}
