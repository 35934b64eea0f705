/**
 * Redis stopped (SIGKILL) and started again mid-run, with AOF on (appendfsync always), while a
 * `sop serve` and two `sop worker` processes run steps: every run must still finish, no step run
 * twice, every audit file final. While Redis is down /healthz may say 503 (it is the truth), but
 * it must answer.
 */
import { join } from "node:path";
import { PrivateRedis, hasRedisServer } from "../../helpers/private-redis.ts";
import { testPrefix } from "../../helpers/redis.ts";
import { ChaosServe, ChaosWorker } from "../fleet.ts";
import type { Scenario } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { StoreReader } from "../run-checks.ts";
import { checkAfterChaos, FAST_RECOVERY, killStage, nextMoment, submitRuns } from "./kill-common.ts";

/** After Redis is back, clients reconnect with a backoff: /healthz may still say 503 this long. */
const RECONNECT_GRACE_MS = 5000;

export const redisRestart: Scenario = {
  name: "redis-restart",
  title: "Redis (AOF) killed and restarted mid-run under a sop serve and two sop workers",
  needsRedis: false,
  async run(ctx, tally) {
    if (!hasRedisServer) throw new Error("redis-server is not on PATH: this scenario needs a Redis of its own to restart");
    const { rng, cleanup } = ctx;
    const full = ctx.size === "full";
    const runs = full ? 40 : 8;
    const restarts = full ? 5 : 1;
    const redis = await PrivateRedis.start({ appendOnly: true });
    cleanup.push("stop the private Redis", () => redis.stop());
    const prefix = testPrefix();
    const { ws, marker, kills, deps } = await killStage(ctx, tally);
    const shared = { ...FAST_RECOVERY, REDIS_URL: redis.url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir };
    const serve = new ChaosServe("serve", deps, { ...shared, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir });
    const workers = [0, 1].map((i) => new ChaosWorker(`worker-${i}`, deps, { ...shared, LOGS_DIR: join(ws.root, "worker-logs") }));
    await Promise.all([serve.start(), ...workers.map((w) => w.start())]);
    const reader = await StoreReader.redis(redis.url, prefix);
    cleanup.push("close the store reader", () => reader.close());
    let excusedUntil = 0;
    let down = false;
    const poller = new HealthPoller(() => [serve], { excused: () => down || Date.now() < excusedUntil });
    poller.start();
    cleanup.push("stop polling", () => poller.stop(tally));

    const chaos = (async () => {
      let seen: number | undefined = 0;
      for (let k = 0; k < restarts; k++) {
        // Spread out: each outage finds the fleet reconnected from the one before and runs going.
        seen = await nextMoment(ws.tmpDir, seen, rng, full ? 4000 : 1500);
        if (seen === undefined) return;
        down = true;
        await redis.down();
        ctx.log(`Redis down (${k + 1} of ${restarts})`);
        await new Promise((r) => setTimeout(r, rng.between(0, 2500)));
        await redis.up();
        excusedUntil = Date.now() + RECONNECT_GRACE_MS;
        down = false;
        ctx.log("Redis up again");
      }
    })();
    const submitted = await submitRuns({ rng, total: runs, serves: () => [serve], sleepRange: full ? [0.5, 4] : [0.2, 1.2], reader, inFlight: full ? 10 : 6 });
    await chaos;
    for (const p of [serve, ...workers]) if (p.exited) await p.start();

    await checkAfterChaos({
      ctx, tally, ws, marker, kills, reader, submitted,
      logsDirs: [{ name: "serve LOGS_DIR", dir: ws.logsDir }],
      verify: { cwd: ws.root, env: ws.env({ REDIS_URL: redis.url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir }) },
      tamper: false,
      stallMs: 3000 + 2000 + 20_000,
      auditWaitMs: full ? 15_000 : 6000,
    });
    await poller.stop(tally);
  },
};
