/** SIGTERM while Redis is down: `sop worker` and `sop serve` stop what runs and exit within the grace, not never. */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSop } from "../helpers/cli.ts";
import { hasRedisServer, PrivateRedis } from "../helpers/private-redis.ts";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

describe.skipIf(!hasRedisServer)("shutting down while Redis is down (needs redis-server on PATH)", () => {
  let ws: Workspace;
  let redis: PrivateRedis;
  let marker: string;
  const commandRuns = (): boolean => spawnSync("pgrep", ["-f", marker]).status === 0;

  beforeEach(async () => {
    ws = await Workspace.create();
    redis = await PrivateRedis.start();
    marker = `outage-${process.pid}-${Date.now()}`;
    await ws.addSop("long", `description = "x"\nexecution_mode = "automatic"`, steps(`**Sleep**\n\`\`\`sh\ntouch "$TMPDIR/sleeping"; sleep 60 # ${marker}\n\`\`\``));
  });
  afterEach(async () => {
    spawnSync("pkill", ["-f", marker]);
    await redis.stop();
    await ws.remove();
  });

  const env = () => ws.env({ REDIS_URL: redis.url, SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir, SOP_SHUTDOWN_GRACE_SECS: "1" });

  it("sop worker exits within the grace and stops its command", async () => {
    const worker = spawnSop(["worker"], { cwd: ws.root, env: env() });
    let stderr = "";
    worker.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => worker.on("close", r));
    await until("the worker to start", () => stderr.includes("sop worker:"), 20_000);
    const bot = await ServeProcess.start(ws, { REDIS_URL: redis.url, SOP_WORKER: "0" });
    await bot.api("POST", "/api/sop/execute", { body: { sop: "long" } });
    await until("the step to run", () => readFile(join(ws.tmpDir, "sleeping")).then(() => true, () => false), 15_000);
    await bot.stop("SIGKILL");
    await redis.down();
    const stoppedAt = Date.now();
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stderr).toMatch(/grace period over; stopped 1 running step/);
    expect(commandRuns()).toBe(false);
  });

  it("sop serve exits within the grace and stops its command", async () => {
    const serve = await ServeProcess.start(ws, { REDIS_URL: redis.url });
    await serve.api("POST", "/api/sop/execute", { body: { sop: "long" } });
    await until("the step to run", () => readFile(join(ws.tmpDir, "sleeping")).then(() => true, () => false), 15_000);
    await redis.down();
    const stoppedAt = Date.now();
    expect(await serve.stop("SIGTERM")).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(commandRuns()).toBe(false);
  });
});
