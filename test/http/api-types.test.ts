/**
 * The API takes JSON as typed: a value of the wrong type is a 400 naming the field and the type
 * it must have, never coerced into something that starts, approves or cancels a run. The whole
 * server (buildServer) over a real runner, in-process, so the web UI's forms are checked on it too.
 */
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { buildServer } from "../../src/http/server.ts";
import { readConfig } from "../../src/config/config.ts";
import { until } from "../helpers/until.ts";
import { postForm, signIn } from "../helpers/web-app.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const TOKEN = "alice-api-token-0123456789";

let ws: Workspace;
let runner: SopRunner;
let app: FastifyInstance;
/** A run of "gated" waiting for its approval: the wrong-typed decisions must leave it so. */
let waitingRun: string;

interface RunBrief { run_id: string; sop: string; status: string }

async function call(method: "GET" | "POST", url: string, body?: unknown) {
  const res = await app.inject({
    method, url,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, json: res.json<Record<string, unknown>>() };
}

async function runs(): Promise<RunBrief[]> {
  const res = await call("GET", "/api/runs");
  expect(res.status).toBe(200);
  return res.json["runs"] as RunBrief[];
}

beforeAll(async () => {
  ws = await Workspace.create();
  await ws.addExample("hello");
  await ws.addSop("gated", `description = "waits for an approval"\nexecution_mode = "supervised"\n[[triggers]]\ntype = "command"\npattern = "^open gate$"`, steps("**Open**\n```sh\necho open\n```"));
  const env = ws.env({ SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir });
  runner = await ws.runner({ env });
  app = await buildServer({ runner, config: readConfig(env, ws.root), tokens: new Map([["alice", TOKEN]]), log: pino({ level: "silent" }) });
  await app.ready();
  const started = await call("POST", "/api/sop/execute", { sop: "gated" });
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  waitingRun = started.json["run_id"] as string;
  await until("the gated run to wait", async () => (await runs()).find((r) => r.run_id === waitingRun && r.status === "awaiting_approval"));
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- each is unset if beforeAll failed before it */
  await app?.close();
  await runner?.close();
  await ws?.remove();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

describe("the API refuses wrong types with 400 and starts nothing", () => {
  const cases: [string, "GET" | "POST", string, unknown, string][] = [
    ["an SOP name in an array", "POST", "/api/sop/execute", { sop: ["gated"] }, "body.sop must be string"],
    ["an SOP name as a number", "POST", "/api/sop/execute", { sop: 7 }, "body.sop must be string"],
    ["force as 1", "POST", "/api/sop/execute", { sop: "gated", force: 1 }, "body.force must be boolean"],
    ["skip_approval as a string", "POST", "/api/sop/execute", { sop: "gated", skip_approval: "true" }, "body.skip_approval must be boolean"],
    ["vars as a string", "POST", "/api/sop/execute", { sop: "gated", vars: "who=you" }, "body.vars must be object"],
    ["vars as an array", "POST", "/api/sop/execute", { sop: "gated", vars: [["who", "you"]] }, "body.vars must be object"],
    ["a var that is null", "POST", "/api/sop/execute", { sop: "gated", vars: { who: null } }, "body.vars.who must be string, number or boolean"],
    ["a var that is an array", "POST", "/api/sop/execute", { sop: "gated", vars: { who: ["you"] } }, "body.vars.who must be string, number or boolean"],
    ["a var that is an object", "POST", "/api/sop/execute", { sop: "gated", vars: { who: { name: "you" } } }, "body.vars.who must be string, number or boolean"],
    ["a var whose name has a space", "POST", "/api/sop/execute", { sop: "gated", vars: { "who am i": "you" } },
      'body.vars has a field "who am i" that is not a variable name (a letter or _, then letters, digits, _, . and -, at most 128)'],
    ["a body that is an array", "POST", "/api/sop/execute", [{ sop: "gated" }], "body must be object"],
    ["a body that is a string", "POST", "/api/sop/execute", "gated", "body must be object"],
    ["an unknown field", "POST", "/api/sop/execute", { sop: "gated", forced: true }, 'body has an unknown field "forced"'],
    ["a run id as a number", "POST", "/api/sop/approve", { sop: "gated", run_id: 12 }, "body.run_id must be string"],
    ["an SOP name in an array", "POST", "/api/sop/approve", { sop: ["gated"] }, "body.sop must be string"],
    ["a comment as true", "POST", "/api/sop/approve", { sop: "gated", comment: true }, "body.comment must be string"],
    ["an SOP name in an array", "POST", "/api/sop/deny", { sop: ["gated"] }, "body.sop must be string"],
    ["a reason in an array", "POST", "/api/sop/deny", { sop: "gated", reason: ["no"] }, "body.reason must be string"],
    ["a run id in an array", "POST", "/api/sop/cancel", { run_id: ["RUN"] }, "body.run_id must be string"],
    ["an SOP name in an array", "POST", "/api/sop/cancel", { sop: ["gated"] }, "body.sop must be string"],
    ["neither an SOP nor a run id", "POST", "/api/sop/cancel", { reason: "stop" }, 'body must have "sop" or "run_id"'],
    ["text in an array", "POST", "/api/sop/trigger", { text: ["open gate"] }, "body.text must be string"],
    ["text as a number", "POST", "/api/sop/trigger", { text: 1 }, "body.text must be string"],
    ["a repeated sop filter", "GET", "/api/runs?sop=gated&sop=hello", undefined, "querystring.sop must be string"],
    ["a repeated status filter", "GET", "/api/runs?status=success&status=failed", undefined, "querystring.status must be string"],
    ["a limit that is not a number", "GET", "/api/runs?limit=ten", undefined, "querystring.limit must be a whole number from 1 to 1000"],
    ["a limit of zero", "GET", "/api/runs?limit=0", undefined, "querystring.limit must be a whole number from 1 to 1000"],
    ["an unknown filter", "GET", "/api/runs?sops=gated", undefined, 'querystring has an unknown field "sops"'],
  ];

  it.each(cases)("answers %s on %s %s with 400 naming the field", async (_what, method, url, body, error) => {
    // The cancel cases name the waiting run: coerced, they would cancel it.
    const payload = JSON.parse(JSON.stringify(body ?? null).replace('"RUN"', JSON.stringify(waitingRun))) as unknown;
    const res = await call(method, url, body === undefined ? undefined : payload);
    expect(res.status, JSON.stringify(res.json)).toBe(400);
    expect(res.json).toEqual({ error: error, code: "invalid" });
    const now = await runs();
    expect(now.map((r) => [r.run_id, r.status])).toEqual([[waitingRun, "awaiting_approval"]]);
  });

  it("refuses a var that is too long with the length it may have, not its type", async () => {
    const res = await call("POST", "/api/sop/execute", { sop: "gated", vars: { who: "x".repeat(20_000) } });
    expect(res.status).toBe(400);
    expect(res.json["error"]).toBe("body.vars.who must NOT have more than 16384 characters");
  });
});

describe("the API takes the right types", () => {
  it("says why a run has not started: behind a run that waits for people, holding its SOP's one slot", async () => {
    const queued = await call("POST", "/api/sop/execute", { sop: "gated" });
    expect(queued.status).toBe(202);
    const id = queued.json["run_id"] as string;
    const why = await call("GET", `/api/runs/${id}/queue`);
    expect(why).toMatchObject({ status: 200, json: { behind_people: true, start_block: { max_concurrent: 1, holders: [{ run_id: waitingRun, status: "awaiting_approval" }] } } });
    expect((await call("POST", "/api/sop/cancel", { run_id: id })).status).toBe(200);
    expect(await call("GET", `/api/runs/${id}/queue`)).toMatchObject({ status: 200, json: { behind_people: false, start_block: null } });
    expect((await call("GET", "/api/runs/no-such-run/queue")).status).toBe(404);
  });

  it("starts a run with string, number and boolean vars, which keep their types", async () => {
    const res = await call("POST", "/api/sop/execute", { sop: "hello", vars: { who: "you", count: 3, loud: true }, skip_approval: false, force: false });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json["vars"]).toMatchObject({ who: "you", count: 3, loud: true });
  });

  it("filters runs by SOP, status and limit given as query text", async () => {
    const res = await call("GET", "/api/runs?sop=gated&status=awaiting_approval,running&limit=1");
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ runs: [{ run_id: waitingRun }], next_cursor: null });
    expect((await call("GET", "/api/runs?limit=1000")).status).toBe(200);
  });

  it("pages runs newest first with next_cursor, each run once, until next_cursor is null", async () => {
    const all = await call("GET", "/api/runs?limit=1000");
    const ids = (all.json["runs"] as { run_id: string }[]).map((r) => r.run_id);
    expect(ids.length).toBeGreaterThan(1);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call("GET", `/api/runs?limit=1${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(page.status, JSON.stringify(page.json)).toBe(200);
      seen.push(...(page.json["runs"] as { run_id: string }[]).map((r) => r.run_id));
      cursor = page.json["next_cursor"] as string | null;
    } while (cursor !== null && seen.length <= ids.length);
    expect(seen).toEqual(ids);
  });

  it("refuses a cursor it did not give with a 400 that says so", async () => {
    const res = await call("GET", "/api/runs?cursor=bm9wZQ");
    expect(res.status).toBe(400);
    expect(res.json["error"]).toMatch(/cursor "bm9wZQ" is not one this server gave; start again without a cursor/);
  });

  it("approves with a run id and a comment, denies with a reason, cancels by run id, and feeds a trigger", async () => {
    const approved = await call("POST", "/api/sop/approve", { sop: "gated", run_id: waitingRun, comment: "go" });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);

    const second = await call("POST", "/api/sop/trigger", { text: "open gate" });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect(second.json["matched"]).toBe(1);
    const secondId = (second.json["results"] as { run?: { run_id: string } }[])[0]?.run?.run_id;
    expect(secondId).toBeDefined();
    await until("the second run to wait", async () => (await runs()).find((r) => r.run_id === secondId && r.status === "awaiting_approval"));
    const denied = await call("POST", "/api/sop/deny", { sop: "gated", run_id: secondId, reason: "not now" });
    expect(denied.status, JSON.stringify(denied.json)).toBe(200);

    const third = await call("POST", "/api/sop/execute", { sop: "gated" });
    expect(third.status).toBe(202);
    const cancelled = await call("POST", "/api/sop/cancel", { run_id: third.json["run_id"], reason: "changed my mind" });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
  });
});

describe("the web UI on the same server", () => {
  it("still starts a run from its urlencoded form, with the var as typed", async () => {
    const browser = await signIn(app, TOKEN);
    const res = await postForm(app, browser, "/sops/hello/run", { _csrf: browser.csrf, "var.who": "form" });
    expect(res.statusCode).toBe(303);
    const runId = /^\/runs\/([^/]+)$/.exec(String(res.headers["location"]))?.[1];
    expect(runId).toBeDefined();
    const record = await call("GET", `/api/runs/${runId ?? ""}`);
    expect(record.json).toMatchObject({ sop: "hello", requested_by: "api:alice", vars: { who: "form" } });
  });
});
