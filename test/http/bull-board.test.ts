/**
 * Bull Board at /admin/queues: on the Redis driver, behind the web UI's login, with its own CSP;
 * on the local driver, absent. A real runner over Redis and the whole server (buildServer).
 */
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { readConfig } from "../../src/config/config.ts";
import { BULL_BOARD_CSP } from "../../src/http/bull-board.ts";
import { buildServer } from "../../src/http/server.ts";
import { SECURITY_HEADERS } from "../../src/http/web/security-headers.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { postForm, signIn, TOKENS } from "../helpers/web-app.ts";
import { Workspace } from "../helpers/workspace.ts";
import type { Queue } from "bullmq";

const url = await redisUrlForTests();

interface Server {
  ws: Workspace;
  runner: SopRunner;
  bullQueue: Queue | undefined;
  app: FastifyInstance;
  logLines: string[];
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const ws = await Workspace.create();
  await ws.addSop("noop", `description = "x"\nexecution_mode = "automatic"`, "# Noop\n\n## Steps\n\n1. **Nothing**\n   ```sh\n   true\n   ```\n");
  const runnerEnv = ws.env({ SOP_ADMINS: "api:alice", ...env });
  const { runner, bullQueue } = await ws.deployment({ env: runnerEnv, ...(env["REDIS_URL"] ? { redisUrl: env["REDIS_URL"] } : {}) });
  const logLines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logLines.push(line) });
  const app = await buildServer({ runner, config: readConfig(runnerEnv, ws.root), tokens: TOKENS, log, ...(bullQueue ? { bullQueue } : {}) });
  await app.ready();
  return { ws, runner, bullQueue, app, logLines };
}

async function stopServer(s: Server | undefined): Promise<void> {
  await s?.app.close();
  await s?.runner.close();
  await s?.ws.remove();
}

const alice = TOKENS.get("alice")!;

describe.skipIf(url === undefined)("Bull Board on Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const prefix = testPrefix();
  let s: Server | undefined;

  beforeAll(async () => {
    s = await startServer({ REDIS_URL: url!, SOP_REDIS_PREFIX: prefix });
  });
  afterAll(async () => {
    await stopServer(s);
    await deleteKeys(url!, prefix);
  });

  it("says where it is at start-up", () => {
    const lines = s!.logLines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(lines.filter((m) => m.startsWith("Bull Board at /admin/queues"))).toHaveLength(1);
  });

  it("sends a request without a session to the login page, and back after signing in", async () => {
    const { app } = s!;
    for (const cookie of [undefined, "sop_session=forged-session-id"]) {
      const res = await app.inject({ method: "GET", url: "/admin/queues", headers: cookie ? { cookie } : {} });
      expect(res.statusCode).toBe(303);
      expect(res.headers["location"]).toBe(`/login?next=${encodeURIComponent("/admin/queues")}`);
      expect(res.body).not.toContain("__UI_CONFIG__");
    }
    const deep = await app.inject({ method: "GET", url: "/admin/queues/queue/jobs" });
    expect(deep.statusCode).toBe(303);
    expect(deep.headers["location"]).toBe(`/login?next=${encodeURIComponent("/admin/queues/queue/jobs")}`);

    const login = await app.inject({ method: "GET", url: "/login?next=/admin/queues" });
    expect(login.body).toContain('name="next" value="/admin/queues"');
    const signedIn = await postForm(app, undefined, "/login", { token: alice, next: "/admin/queues" });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers["location"]).toBe("/admin/queues");
  });

  it("serves its page and static files only with a session, under its own CSP", async () => {
    const { app } = s!;
    const { cookie } = await signIn(app, alice);
    const page = await app.inject({ method: "GET", url: "/admin/queues", headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.body).toContain("<title>sop-runner queues</title>");
    expect(page.headers["content-security-policy"]).toBe(BULL_BOARD_CSP);
    expect(BULL_BOARD_CSP).toContain("frame-ancestors 'none'");
    expect(BULL_BOARD_CSP).not.toMatch(/https?:|\*|'unsafe-eval'/);
    expect(BULL_BOARD_CSP).toMatch(/script-src 'self';/);
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["cache-control"]).toBe("no-store");

    const script = /<script[^>]* src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = `/admin/queues/${script}`;
    const js = await app.inject({ method: "GET", url: asset, headers: { cookie } });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    const anonymous = await app.inject({ method: "GET", url: asset });
    expect(anonymous.statusCode).toBe(303);

    // The web UI's own pages keep their strict policy.
    const home = await app.inject({ method: "GET", url: "/", headers: { cookie } });
    expect(home.headers["content-security-policy"]).toBe(SECURITY_HEADERS["content-security-policy"]);
  });

  it("answers its API only with a session, and lists our queue", async () => {
    const { app } = s!;
    const anonymous = await app.inject({ method: "GET", url: "/admin/queues/api/queues" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ error: "sign in to the web UI first", code: "unauthorized" });
    const pause = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/jobs/pause" });
    expect(pause.statusCode).toBe(401);
    expect(await s!.bullQueue!.isPaused()).toBe(false);

    const { cookie } = await signIn(app, alice);
    const res = await app.inject({ method: "GET", url: "/admin/queues/api/queues", headers: { cookie } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ queues: { name: string; type: string }[] }>();
    expect(body.queues.map((q) => [q.name, q.type])).toEqual([["jobs", "bullmq"]]);
  });

  it("lets only an admin act on the queue, and never from another site", async () => {
    const { app } = s!;
    const queue = s!.bullQueue!;
    const notAdmin = await signIn(app, TOKENS.get("bob")!);
    const refused = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/jobs/pause", headers: { cookie: notAdmin.cookie, "sec-fetch-site": "same-origin" } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ error: string }>().error).toBe("not allowed: only admins (SOP_ADMINS) may change queues; api:bob is not one");
    expect(await queue.isPaused()).toBe(false);
    const { cookie } = await signIn(app, alice);
    const crossSite = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/jobs/pause", headers: { cookie, "sec-fetch-site": "cross-site" } });
    expect(crossSite.statusCode).toBe(403);
    expect(await queue.isPaused()).toBe(false);

    const paused = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/jobs/pause", headers: { cookie, "sec-fetch-site": "same-origin" } });
    expect(paused.statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    const resumed = await app.inject({ method: "PUT", url: "/admin/queues/api/queues/jobs/resume", headers: { cookie, "sec-fetch-site": "same-origin" } });
    expect(resumed.statusCode).toBe(200);
    expect(await queue.isPaused()).toBe(false);
    expect(s!.logLines.some((l) => l.includes('"msg":"Bull Board action"') && l.includes('"token":"alice"'))).toBe(true);
  });
});

describe("Bull Board on the local driver", () => {
  let s: Server | undefined;
  beforeAll(async () => {
    s = await startServer({});
  });
  afterAll(async () => {
    await stopServer(s);
  });

  it("is not there: /admin/queues is 404, signed in or not, and start-up does not mention it", async () => {
    const { app, bullQueue, logLines } = s!;
    expect(bullQueue).toBeUndefined();
    const { cookie } = await signIn(app, alice);
    for (const headers of [{}, { cookie }]) {
      for (const path of ["/admin/queues", "/admin/queues/api/queues"]) {
        const res = await app.inject({ method: "GET", url: path, headers });
        expect(res.statusCode).toBe(404);
      }
    }
    expect(logLines.some((l) => l.includes("Bull Board"))).toBe(false);
  });
});
