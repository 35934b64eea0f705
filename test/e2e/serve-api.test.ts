import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

type Record_ = Record<string, unknown> & { run_id: string; status: string; approvals: { gate: string; decision: string; by: string[]; refused: { by: string; reason: string }[] }[] };

let ws: Workspace;
let serve: ServeProcess;

const note = steps("**Check**\n```sh\necho checked\n```");

beforeAll(async () => {
  ws = await Workspace.create();
  await ws.addExample("hello");
  await ws.addExample("deploy-production");
  await ws.addSop("alice-only", `description = "only alice approves"\nexecution_mode = "supervised"\n[approval]\napprovers = ["api:alice"]`, note);
  await ws.addSop("no-self", `description = "no self-approval"\nexecution_mode = "supervised"\n[approval]\nallow_self_approval = false`, note);
  await ws.addSop("twin", `description = "two at once"\nexecution_mode = "supervised"\nmax_concurrent = 2`, note);
  await ws.addSop("cool", `description = "cools down"\nexecution_mode = "automatic"\ncooldown_secs = 3600`, note);
  serve = await ServeProcess.start(ws);
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  expect(await serve?.stop()).toBe(0);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await ws?.remove();
});

async function started(sop: string, body: Record<string, unknown> = {}, token: string = TOKENS.alice): Promise<string> {
  const res = await serve.api<Record_>("POST", "/api/sop/execute", { body: { sop, ...body }, token });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return res.json.run_id;
}

const waiting = (r: { status: string }) => r.status === "awaiting_approval";

describe("sop serve: authentication", () => {
  it("answers 401 without a token and with a wrong one, as JSON", async () => {
    const none = await serve.api("GET", "/api/sops", { token: null });
    expect(none.status).toBe(401);
    expect(none.json["error"]).toMatch(/Authorization: Bearer/);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await serve.api("POST", "/api/sop/execute", { token: "not-a-token", body: { sop: "hello" } });
    expect(wrong.status).toBe(401);
    expect(wrong.json["error"]).toMatch(/unknown or malformed bearer token/);
  });

  it("refuses an approver the SOP does not name with 403, and the refusal is in the audit file", async () => {
    const runId = await started("alice-only");
    await serve.runUntil(runId, "the run to wait", waiting);
    const res = await serve.api("POST", "/api/sop/approve", { token: TOKENS.bob, body: { sop: "alice-only", run_id: runId } });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ code: "not_allowed" });
    expect(res.json["error"]).toContain("api:bob is not an approver");
    const refused = await until("the refusal in the audit file", async () => (await ws.auditFiles("alice-only"))[0]?.approvals[0]?.refused.find((r) => r.by === "api:bob"));
    expect(refused).toMatchObject({ decision: "approve", reason: expect.stringContaining("not an approver") });
    const ok = await serve.api<{ run: Record_ }>("POST", "/api/sop/approve", { token: TOKENS.alice, body: { sop: "alice-only" } });
    expect(ok.status).toBe(200);
    await serve.runUntil(runId, "the run to succeed", (r) => r.status === "success");
  });

  it("refuses self-approval with 403 when the SOP does not allow it", async () => {
    const runId = await started("no-self", {}, TOKENS.carol);
    await serve.runUntil(runId, "the run to wait", waiting);
    const self = await serve.api("POST", "/api/sop/approve", { token: TOKENS.carol, body: { sop: "no-self" } });
    expect(self.status).toBe(403);
    expect(self.json).toMatchObject({ code: "self_approval" });
    expect((await serve.api("POST", "/api/sop/approve", { token: TOKENS.bob, body: { sop: "no-self" } })).status).toBe(200);
  });
});

describe("sop serve: bad input", () => {
  it("answers malformed JSON with 400", async () => {
    const res = await serve.api("POST", "/api/sop/execute", { raw: '{"sop": "hello",' });
    expect(res.status).toBe(400);
    expect(res.json["error"]).toMatch(/JSON/);
  });

  it("answers a 10 MB body with 413", async () => {
    const big = JSON.stringify({ sop: "hello", vars: { blob: "x".repeat(10 * 1024 * 1024) } });
    const res = await serve.postLarge("/api/sop/execute", big);
    expect(res.status).toBe(413);
    expect(res.json["error"]).toMatch(/too large/);
  });

  it("answers an unknown SOP with 404", async () => {
    const run = await serve.api("POST", "/api/sop/execute", { body: { sop: "no-such-sop" } });
    expect(run.status).toBe(404);
    expect(run.json).toMatchObject({ code: "unknown_sop" });
    expect((await serve.api("GET", "/api/sops/no-such-sop")).status).toBe(404);
    expect((await serve.api("GET", "/api/runs/no-such-run")).status).toBe(404);
    expect((await serve.api("POST", "/api/sop/approve", { body: { sop: "no-such-sop" } })).status).toBe(404);
  });

  it("never reads a file for a path-traversal name: 400 or 404", async () => {
    for (const [method, path, body] of [
      ["GET", "/api/sops/..%2F..%2Fetc%2Fpasswd"],
      ["GET", "/api/runs/..%2F..%2Fetc%2Fpasswd"],
      ["GET", "/api/sops/../../etc/passwd"],
      ["POST", "/api/sop/approve", { sop: "../../etc/passwd" }],
      ["POST", "/api/sop/execute", { sop: "../../etc/passwd" }],
      ["POST", "/api/sop/cancel", { run_id: "../../etc/passwd" }],
      ["GET", "/api/runs?sop=..%2F..%2Fetc%2Fpasswd"],
    ] as const) {
      const res = await serve.api(method, path, body ? { body } : {});
      expect([400, 404], `${method} ${path}`).toContain(res.status);
      expect(JSON.stringify(res.json)).not.toContain("root:");
      expect(typeof res.json["error"]).toBe("string");
    }
    const res = await serve.api("POST", "/api/sop/execute", { body: { sop: "../../etc/passwd" } });
    expect(res.json["error"]).toBe('body.sop must be an SOP name (lower-case letters, digits, - and _, at most 64, e.g. "deploy-production")');
  });

  it("rejects unknown fields rather than dropping them", async () => {
    const res = await serve.api("POST", "/api/sop/approve", { body: { sop: "hello", "run-id": "x" } });
    expect(res.status).toBe(400);
    expect(res.json["error"]).toContain('unknown field "run-id"');
  });
});

describe("sop serve: runs over the API", () => {
  it("answers 409 listing the waiting runs when two wait", async () => {
    const a = await started("twin");
    const b = await started("twin");
    await serve.runUntil(a, "run a to wait", waiting);
    await serve.runUntil(b, "run b to wait", waiting);
    const res = await serve.api<{ code: string; runs: { id: string }[] }>("POST", "/api/sop/approve", { body: { sop: "twin" } });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe("ambiguous");
    expect(res.json.runs.map((r) => r.id).sort()).toEqual([a, b].sort());
    expect((await serve.api("POST", "/api/sop/cancel", { body: { run_id: a } })).status).toBe(200);
    expect((await serve.api("POST", "/api/sop/deny", { body: { sop: "twin", reason: "not today" } })).status).toBe(200);
    expect((await serve.api("POST", "/api/sop/cancel", { body: { run_id: a } })).status).toBe(409);
  });

  it("answers 429 with Retry-After during the cooldown", async () => {
    const first = await started("cool");
    await serve.runUntil(first, "the first run to end", (r) => r.status === "success");
    const res = await serve.api("POST", "/api/sop/execute", { body: { sop: "cool" } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3500);
    expect(res.json).toMatchObject({ code: "cooldown" });
  });

  it("executes deploy-production, approves it twice, and the audit file on disk says success", async () => {
    const runId = await started("deploy-production", { vars: { version: "3.1.4" } });
    await serve.runUntil(runId, "the first gate", waiting);
    const first = await serve.api<{ message: string; run: Record_ }>("POST", "/api/sop/approve", { body: { sop: "deploy-production", comment: "staging ok" } });
    expect(first.status).toBe(200);
    expect(first.json.message).toContain("approved step:3");
    await serve.runUntil(runId, "the second gate", (r) => waiting(r) && (r as Record_).approvals.length === 2);
    const second = await serve.api("POST", "/api/sop/approve", { token: TOKENS.bob, body: { sop: "deploy-production", run_id: runId } });
    expect(second.status).toBe(200);
    await serve.runUntil(runId, "success", (r) => r.status === "success");
    // The API answers from the store; the file on disk follows a moment later.
    const record = await until("the final audit file", async () =>
      (await ws.auditFiles("deploy-production")).find((r) => r.run_id === runId && r.status === "success" && r.hash !== undefined));
    expect(record).toMatchObject({
      status: "success", requested_by: "api:alice", vars: expect.objectContaining({ version: "3.1.4" }),
      trigger: { type: "manual", source: "api" }, metrics: { approval_waits: 2, steps_completed: 5 }, seq: 1,
    });
    expect(record.approvals.map((a) => [a.gate, a.by, a.comment])).toEqual([["step:3", ["api:alice"], "staging ok"], ["step:5", ["api:bob"], null]]);
  });

  it("starts SOPs from text matching a command trigger and says why one is refused", async () => {
    const res = await serve.api<{ results: { sop: string; status: string; run?: Record_; code?: string; retry_after_secs?: number }[] }>(
      "POST", "/api/sop/trigger", { body: { text: "deploy:9.9.9" } });
    expect(res.status).toBe(200);
    // deploy-production ran in the test before, so its cooldown refuses this one.
    expect(res.json.results).toEqual([expect.objectContaining({ sop: "deploy-production", status: "refused", code: "cooldown" })]);
    expect(res.json.results[0]!.retry_after_secs).toBeGreaterThan(0);
    const none = await serve.api<{ matched: number }>("POST", "/api/sop/trigger", { body: { text: "nothing matches this" } });
    expect(none.json.matched).toBe(0);
  });

  it("lists SOPs, shows one with its plan and status, and filters runs", async () => {
    const list = await serve.api<{ sops: { name: string }[] }>("GET", "/api/sops");
    expect(list.json.sops.map((s) => s.name)).toEqual(["alice-only", "cool", "deploy-production", "hello", "no-self", "twin"]);
    const one = await serve.api<{ sop: { name: string; steps: unknown[] }; plan: { steps: { decision: string }[] }; status: { cooldown_remaining_secs: number } }>("GET", "/api/sops/deploy-production");
    expect(one.status).toBe(200);
    expect(one.json.sop.steps).toHaveLength(5);
    expect(one.json.plan.steps.map((s) => s.decision)).toEqual(["run", "skip", "approval", "skip", "skip"]);
    expect(one.json.status.cooldown_remaining_secs).toBeGreaterThan(0);
    const runs = await serve.api<{ runs: { sop: string; status: string }[] }>("GET", "/api/runs?sop=twin&status=denied,cancelled");
    expect(runs.json.runs.map((r) => r.status).sort()).toEqual(["cancelled", "denied"]);
    expect((await serve.api("GET", "/api/runs?status=bogus")).status).toBe(400);
  });
});

describe("sop serve: /healthz and /metrics", () => {
  it("reports the store and the chat platforms without a token", async () => {
    const res = await serve.api("GET", "/healthz", { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "ok", service: "sop-runner", store: "ok", queue: "in-process", sops: 6, chat: { slack: "off", discord: "off" } });
  });

  it("exposes run, approval and refusal metrics in Prometheus text", async () => {
    const runId = await started("hello");
    await serve.runUntil(runId, "hello to end", (r) => r.status === "success");
    const res = await fetch(`${serve.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    // The run's end is counted from its event, a moment after the store says so.
    const text = await until("hello's run in the metrics", async () => {
      const body = await (await fetch(`${serve.url}/metrics`)).text();
      return /^sop_runs_total\{sop="hello",status="success"\} 1$/m.test(body) && body;
    });
    expect(text).toMatch(/^sop_runs_total\{sop="alice-only",status="success"\} 1$/m);
    expect(text).toMatch(/^sop_approvals_refused_total\{sop="alice-only"\} 1$/m);
    expect(text).toMatch(/^sop_runs_refused_total\{sop="cool",reason="cooldown",trigger="manual"\} 1$/m);
    expect(text).toMatch(/^sop_trigger_firings_total\{type="command",sop="deploy-production",outcome="refused"\} 1$/m);
    expect(text).toMatch(/^sop_run_duration_seconds_count\{sop="hello",status="success"\} 1$/m);
    expect(text).toMatch(/^sop_step_duration_seconds_count\{sop="hello",status="success"\} 3$/m);
    expect(text).toMatch(/^sop_approval_wait_seconds_count\{sop="deploy-production",decision="approved"\} 2$/m);
    expect(text).toMatch(/^sop_pending_approvals\{sop="hello",kind="approval"\} 0$/m);
    expect(text).toMatch(/^sop_queued_runs\{sop="hello"\} 0$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
