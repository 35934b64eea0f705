/** Redis restarting mid-run (appendonly on): the processes reconnect and the run finishes, nothing lost. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { createSopRunner } from "../../src/compose/open-deployment.ts";
import { hasRedisServer, PrivateRedis } from "../helpers/private-redis.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

describe.skipIf(!hasRedisServer)("a Redis restart mid-run (needs redis-server on PATH)", () => {
  let ws: Workspace;
  let redis: PrivateRedis;
  let runner: SopRunner | undefined;

  beforeEach(async () => {
    ws = await Workspace.create();
    redis = await PrivateRedis.start({ appendOnly: true });
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    await redis.stop();
    await ws.remove();
  });

  it("reconnects and carries the run on after Redis restarts", async () => {
    await ws.addSop("steady", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**First**\n```sh\ntouch "$TMPDIR/first"; sleep 2\n```', "**Second**\n```sh\necho done\n```",
    ));
    runner = await createSopRunner({ sopsDir: ws.sopsDir, logsDir: ws.logsDir, redisUrl: redis.url, env: ws.env({ REDIS_URL: redis.url }) });
    const run = await runner.execute("steady", { wait: false });
    await until("the first step to run", async () => (await runner!.run(run.run_id))?.run.steps[0]!.status === "running");
    await redis.restart();
    const record = await until("the run to finish after the restart", async () => {
      const r = await runner!.record(run.run_id).catch(() => undefined);
      return r?.status === "success" ? r : undefined;
    }, 30_000);
    expect(record.steps.map((s) => s.status)).toEqual(["success", "success"]);
    expect(record.steps[1]!.output).toBe("done\n");
  });
});
