/**
 * Local driver: `sop serve` killed -9 at random moments while runs execute through its API, and
 * started again each time (it takes DATA_DIR over from the dead process and recovers: orphaned
 * commands stopped, interrupted steps failed or retried, queued runs started, files brought up
 * to date).
 */
import { ChaosServe } from "../fleet.ts";
import type { Scenario } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { StoreReader } from "../run-checks.ts";
import { checkAfterChaos, FAST_RECOVERY, killSizes, killStage, nextMoment, submitRuns } from "./kill-common.ts";

export const killLocal: Scenario = {
  name: "kill-local",
  title: "local driver: sop serve killed -9 at random moments mid-run and restarted (steps with and without retries)",
  needsRedis: false,
  async run(ctx, tally) {
    const { rng, cleanup } = ctx;
    const sizes = killSizes(ctx.size, { runs: 60, kills: 12, sleepRange: [0.5, 4], inFlight: 10 });
    const { ws, marker, kills, deps } = await killStage(ctx, tally);
    const serve = new ChaosServe("serve", deps, { ...FAST_RECOVERY });
    await serve.start();
    const poller = new HealthPoller(() => [serve]);
    poller.start();
    cleanup.push("stop polling", () => poller.stop(tally));

    const reader = StoreReader.local(ws.dataDir);
    const chaos = (async () => {
      let seen: number | undefined = 0;
      for (let k = 0; k < sizes.kills; k++) {
        seen = await nextMoment(ws.tmpDir, seen, rng, 1500);
        if (seen === undefined) return;
        await serve.kill9();
        if (rng.chance(0.3)) await new Promise((r) => setTimeout(r, rng.between(0, 1000)));
        await serve.start();
      }
    })();
    const submitted = await submitRuns({ rng, total: sizes.runs, serves: () => [serve], sleepRange: sizes.sleepRange, reader, inFlight: sizes.inFlight });
    await chaos;
    if (serve.exited) await serve.start();
    ctx.log(`chaos over: ${kills.kills.length} kills, ${submitted.accepted.length} runs accepted`);

    await checkAfterChaos({
      ctx, tally, ws, marker, kills, reader, submitted,
      logsDirs: [{ name: "serve LOGS_DIR", dir: ws.logsDir }],
      verify: { cwd: ws.root, env: ws.env({ DATA_DIR: ws.dataDir, SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir }) },
      tamper: true,
      stallMs: 3000 + 2000 + 20_000,
      auditWaitMs: ctx.size === "full" ? 15_000 : 6000,
    });
    await poller.stop(tally);
  },
};
