/**
 * Redis driver: three `sop worker` processes killed -9 at random moments (sometimes two at once)
 * and replaced, beside two `sop serve` (one with SOP_WORKER=0, one running a worker too) that
 * take the executes and write the audit files, and are killed now and then as well.
 */
import { join } from "node:path";
import { deleteKeys, testPrefix } from "../../helpers/redis.ts";
import { ChaosServe, ChaosWorker } from "../fleet.ts";
import type { Scenario } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { StoreReader } from "../run-checks.ts";
import { checkAfterChaos, FAST_RECOVERY, killSizes, killStage, nextMoment, submitRuns } from "./kill-common.ts";

export const killRedis: Scenario = {
  name: "kill-redis",
  title: "Redis: sop workers (3; 2 when small) and 2 sop serve killed -9 at random moments mid-run and replaced (steps with and without retries)",
  needsRedis: true,
  async run(ctx, tally) {
    const { rng, cleanup } = ctx;
    const url = ctx.redisUrl!;
    const sizes = killSizes(ctx.size, { runs: 100, kills: 24, sleepRange: [0.5, 4], inFlight: 12 });
    const prefix = testPrefix();
    cleanup.push("delete the Redis keys", () => deleteKeys(url, prefix));
    const { ws, marker, kills, deps } = await killStage(ctx, tally);
    const shared = { ...FAST_RECOVERY, REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir };
    const serves = [
      new ChaosServe("serve-a (SOP_WORKER=0)", deps, { ...shared, SOP_WORKER: "0", LOGS_DIR: join(ws.root, "logs-a"), DATA_DIR: join(ws.root, "data-a") }),
      new ChaosServe("serve-b", deps, { ...shared, LOGS_DIR: join(ws.root, "logs-b"), DATA_DIR: join(ws.root, "data-b") }),
    ];
    // Three workers; two in the small run, to keep the fast subset fast on two cores.
    const workers = (ctx.size === "full" ? [0, 1, 2] : [0, 1]).map((i) => new ChaosWorker(`worker-${i}`, deps, { ...shared, LOGS_DIR: join(ws.root, "worker-logs") }));
    await Promise.all([...serves.map((s) => s.start()), ...workers.map((w) => w.start())]);
    const reader = await StoreReader.redis(url, prefix);
    cleanup.push("close the store reader", () => reader.close());
    const poller = new HealthPoller(() => serves);
    poller.start();
    cleanup.push("stop polling", () => poller.stop(tally));

    const chaos = (async () => {
      let seen: number | undefined = 0;
      for (let k = 0; k < sizes.kills; k++) {
        seen = await nextMoment(ws.tmpDir, seen, rng, 1500);
        if (seen === undefined) return;
        const roll = rng.next();
        if (roll < 0.2) {
          const serve = rng.pick(serves);
          await serve.kill9();
          await serve.start();
        } else if (roll < 0.4) {
          const [a, b] = rng.shuffle(workers);
          await Promise.all([a!.kill9(), b!.kill9()]);
          await Promise.all([a!.start(), b!.start()]);
        } else {
          const worker = rng.pick(workers);
          await worker.kill9();
          if (rng.chance(0.5)) await worker.start();
          else void worker.start().catch((err: unknown) => tally.note(`${worker.name} did not start again: ${(err as Error).message}`));
        }
      }
    })();
    const submitted = await submitRuns({ rng, total: sizes.runs, serves: () => serves, sleepRange: sizes.sleepRange, reader, inFlight: sizes.inFlight });
    await chaos;
    for (const p of [...serves, ...workers]) if (p.exited) await p.start();
    ctx.log(`chaos over: ${kills.kills.length} kills, ${submitted.accepted.length} runs accepted`);

    const env = ws.env({ REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir });
    await checkAfterChaos({
      ctx, tally, ws, marker, kills, reader, submitted,
      logsDirs: serves.map((s) => ({ name: `${s.name} LOGS_DIR`, dir: s.env["LOGS_DIR"]! })),
      verify: { cwd: ws.root, env },
      tamper: true,
      stallMs: 3000 + 2000 + 20_000,
      auditWaitMs: ctx.size === "full" ? 15_000 : 6000,
    });
    await poller.stop(tally);
  },
};
