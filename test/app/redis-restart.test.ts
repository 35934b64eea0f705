/** Redis restarting mid-run (appendonly on): the processes reconnect and the run finishes, nothing lost. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSopRunner, type SopRunner } from "../../src/app/sop-runner.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedisServer && process.env["REQUIRE_REDIS"] === "1") throw new Error("REQUIRE_REDIS=1 but redis-server is not on PATH");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

describe.skipIf(!hasRedisServer)("a Redis restart mid-run (needs redis-server on PATH)", () => {
  let ws: Workspace;
  let redis: ChildProcess | undefined;
  let runner: SopRunner | undefined;
  let port: number;

  const startRedis = async (): Promise<void> => {
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", ws.dataDir], { stdio: "ignore" });
    await until("redis to answer", () => spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().includes("PONG"), 10_000);
  };

  beforeEach(async () => {
    ws = await Workspace.create();
    port = await freePort();
    await startRedis();
  });
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    redis?.kill("SIGKILL");
    await ws.remove();
  });

  it("reconnects and carries the run on after Redis restarts", async () => {
    await ws.addSop("steady", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**First**\n```sh\ntouch "$TMPDIR/first"; sleep 2\n```', "**Second**\n```sh\necho done\n```",
    ));
    const url = `redis://127.0.0.1:${port}`;
    runner = await createSopRunner({ sopsDir: ws.sopsDir, logsDir: ws.logsDir, redisUrl: url, env: ws.env({ REDIS_URL: url }) });
    const run = await runner.execute("steady", { wait: false });
    await until("the first step to run", async () => (await runner!.store.get(run.run_id))?.run.steps[0]!.status === "running");
    spawnSync("redis-cli", ["-p", String(port), "shutdown"]);
    await new Promise((r) => redis!.once("exit", r));
    await startRedis();
    const record = await until("the run to finish after the restart", async () => {
      const r = await runner!.record(run.run_id).catch(() => undefined);
      return r?.status === "success" ? r : undefined;
    }, 30_000);
    expect(record.steps.map((s) => s.status)).toEqual(["success", "success"]);
    expect(record.steps[1]!.output).toBe("done\n");
  });
});
