/** `sop serve` on the Redis driver: the same API, health that names Redis, a clean SIGTERM. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("sop serve on Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let serve: ServeProcess | undefined;
  const prefixes: string[] = [];

  beforeEach(async () => {
    ws = await Workspace.create();
  });
  afterEach(async () => {
    await serve?.stop("SIGKILL");
    serve = undefined;
    await ws.remove();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });

  it("runs and approves deploy-production over the API and reports Redis in /healthz", async () => {
    await ws.addExample("deploy-production");
    const prefix = testPrefix();
    prefixes.push(prefix);
    serve = await ServeProcess.start(ws, { REDIS_URL: url!, SOP_REDIS_PREFIX: prefix });
    expect(serve.hasLog(/^queue: BullMQ on Redis \(.*, prefix sop-test-/)).toBeDefined();
    const health = await serve.api("GET", "/healthz", { token: null });
    expect(health.json).toMatchObject({ status: "ok", store: "ok", queue: "redis" });
    const { json } = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "deploy-production" } });
    for (const gate of ["step:3", "step:5"]) {
      await serve.runUntil(json.run_id, `the gate ${gate}`, (r) => r.status === "awaiting_approval" && (r["approvals"] as { gate: string; decision: string }[]).some((a) => a.gate === gate && a.decision === "pending"));
      expect((await serve.api("POST", "/api/sop/approve", { body: { sop: "deploy-production", run_id: json.run_id } })).status).toBe(200);
    }
    await serve.runUntil(json.run_id, "success", (r) => r.status === "success");
    expect(await serve.stop("SIGTERM")).toBe(0);
  });

  it("across three serve processes, 100 simultaneous approvals decide a gate once and 50 simultaneous executes in a cooldown accept one", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 600\n[approval]\nmin_approvals = 1`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    const prefix = testPrefix();
    prefixes.push(prefix);
    const nodes: ServeProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const dataDir = join(ws.root, `data-${i}`);
        nodes.push(await ServeProcess.start(ws, { REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, DATA_DIR: dataDir, LOGS_DIR: join(ws.root, `logs-${i}`) }));
      }
      const executes = await Promise.all(Array.from({ length: 50 }, (_, i) => nodes[i % 3]!.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "gated" } })));
      expect(executes.map((a) => a.status).sort()).toEqual([202, ...Array.from({ length: 49 }, () => 429)]);
      const runId = executes.find((a) => a.status === 202)!.json.run_id;
      await nodes[0]!.runUntil(runId, "the gate", (r) => r.status === "awaiting_approval");
      const approvals = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        nodes[i % 3]!.api("POST", "/api/sop/approve", { body: { sop: "gated", run_id: runId } })));
      expect(approvals.filter((a) => a.status === 200)).toHaveLength(1);
      expect(approvals.filter((a) => a.status !== 200).every((a) => a.status === 409)).toBe(true);
      const done = await nodes[1]!.runUntil(runId, "success", (r) => r.status === "success");
      expect((done["approvals"] as { by: string[] }[])[0]!.by).toHaveLength(1);
    } finally {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    }
  });

  it("on SIGTERM mid-step kills the command, exits 0, and the next process takes the run over", async () => {
    await ws.addSop("long", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**Sleep**\n```sh\ntouch "$TMPDIR/sleeping"; sleep 60\n```',
      "**After**",
    ));
    const prefix = testPrefix();
    prefixes.push(prefix);
    const env = { REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, SOP_LOCK_DURATION_MS: "2000", SOP_STALLED_INTERVAL_MS: "1000" };
    serve = await ServeProcess.start(ws, env);
    const { json } = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "long" } });
    await until("the step to run", () => readFile(join(ws.tmpDir, "sleeping")).then(() => true, () => false), 15_000);
    const stoppedAt = Date.now();
    expect(await serve.stop("SIGTERM")).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(serve.hasLog(/a worker takes them over once their lock expires/)).toBeDefined();
    serve = await ServeProcess.start(ws, env);
    const record = await serve.runUntil(json.run_id, "the run to be taken over", (r) => r.status === "failed", 20_000);
    expect((record["steps"] as { status: string; reason?: string }[]).map((s) => [s.status, s.reason ?? ""])).toEqual([["failed", "interrupted"], ["skipped", expect.any(String)]]);
  }, 40_000);
});
