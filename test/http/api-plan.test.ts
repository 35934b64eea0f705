/**
 * `POST /api/sop/plan`: the plan `sop plan` prints, asked of a running server, for the variables
 * given; nothing runs. The whole server (buildServer) over a real runner, in-process.
 */
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { readConfig } from "../../src/config/config.ts";
import { buildServer } from "../../src/http/server.ts";
import { Workspace } from "../helpers/workspace.ts";

const TOKEN = "alice-api-token-0123456789";

let ws: Workspace;
let runner: SopRunner;
let app: FastifyInstance;

async function plan(body: unknown) {
  const res = await app.inject({
    method: "POST", url: "/api/sop/plan", payload: JSON.stringify(body),
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });
  return { status: res.statusCode, json: res.json<Record<string, unknown>>() };
}

beforeAll(async () => {
  ws = await Workspace.create();
  await ws.addExample("deploy-production");
  const env = ws.env({ SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir });
  runner = await ws.runner({ env });
  app = await buildServer({ runner, config: readConfig(env, ws.root), tokens: new Map([["alice", TOKEN]]), log: pino({ level: "silent" }) });
  await app.ready();
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await app?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await runner?.close();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await ws?.remove();
});

describe("POST /api/sop/plan", () => {
  it("plans the SOP for the variables given, with its version, mode and priority, and starts nothing", async () => {
    const res = await plan({ sop: "deploy-production", vars: { tests_pass: false } });
    expect(res.status).toBe(200);
    expect(res.json["sop"]).toEqual({ name: "deploy-production", version: "1.0.0", priority: "high", execution_mode: "supervised" });
    expect(res.json["plan"]).toEqual(runner.plan("deploy-production", { tests_pass: false }));
    const steps = (res.json["plan"] as { steps: { number: number; decision: string }[] }).steps;
    expect(steps.find((s) => s.number === 2)?.decision).toBe("skip");
    expect(await runner.runs()).toEqual([]);
  });

  it("answers 404 for an unknown SOP and 400 for a malformed body", async () => {
    expect(await plan({ sop: "nope" })).toEqual({ status: 404, json: { error: 'unknown SOP "nope"', code: "unknown_sop" } });
    const bad = await plan({ sop: "deploy-production", vars: { tests_pass: [true] } });
    expect(bad.status).toBe(400);
    expect(await plan({ sop: "deploy-production", extra: 1 })).toMatchObject({ status: 400, json: { error: 'body has an unknown field "extra"' } });
  });
});
