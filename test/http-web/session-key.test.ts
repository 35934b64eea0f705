/**
 * Web sessions signed with the session key (SPEC §7.2): a server with the same key accepts a
 * session another opened (a restart, a second server behind a load balancer); nothing else does.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { registerWebUi } from "../../src/http/web/index.ts";
import { csrfOf, follow, postForm, signIn, TOKENS } from "../helpers/web-app.ts";
import { Workspace } from "../helpers/workspace.ts";

const KEY = "one-session-key-for-both-servers-0123456789";
const ALICE = TOKENS.get("alice")!;
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let ws: Workspace;
let runner: SopRunner;
const apps: FastifyInstance[] = [];

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("hello");
  runner = await ws.runner();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await runner.close();
  await ws.remove();
});

/** A server's web UI, as `sop serve` builds it after a start. */
async function server(o: { key?: string; tokens?: Map<string, string> } = {}): Promise<FastifyInstance> {
  const app = Fastify();
  await registerWebUi(app, { runner, tokens: o.tokens ?? TOKENS, log: quiet, ...(o.key ? { sessionKey: o.key } : {}) });
  await app.ready();
  apps.push(app);
  return app;
}

const homeOf = (app: FastifyInstance, cookie: string) => app.inject({ method: "GET", url: "/", headers: { cookie } });

describe("web sessions and the session key", () => {
  it("are accepted by a server with the same key, forms included, and by no server with another", async () => {
    const first = await server({ key: KEY });
    const b = await signIn(first, ALICE);
    const next = await server({ key: KEY });
    const page = await homeOf(next, b.cookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("api:alice");
    // The CSRF token of a form from the first server still counts.
    expect(csrfOf(page.body)).toBe(b.csrf);
    const started = await follow(next, b, await postForm(next, b, "/sops/hello/run", { _csrf: b.csrf }));
    expect(started.body).toContain("Started hello, run ");

    expect((await homeOf(await server({ key: "another-session-key-of-another-server-99" }), b.cookie)).statusCode).toBe(303);
    expect((await homeOf(await server(), b.cookie)).statusCode).toBe(303);
  });

  it("end when their token is changed under the same name or removed", async () => {
    const b = await signIn(await server({ key: KEY }), ALICE);
    const rotated = new Map([...TOKENS, ["alice", "alice-new-token-after-a-leak-000"]]);
    expect((await homeOf(await server({ key: KEY, tokens: rotated }), b.cookie)).statusCode).toBe(303);
    const removed = new Map([...TOKENS].filter(([name]) => name !== "alice"));
    expect((await homeOf(await server({ key: KEY, tokens: removed }), b.cookie)).statusCode).toBe(303);
    expect((await homeOf(await server({ key: KEY }), b.cookie)).statusCode).toBe(200);
  });

  it("refuse a cookie whose name or expiry was edited", async () => {
    const app = await server({ key: KEY });
    const b = await signIn(app, ALICE);
    const value = b.cookie.slice("sop_session=".length);
    const payload = JSON.parse(Buffer.from(value.slice(0, -43), "base64url").toString("utf8")) as Record<string, unknown>;
    for (const edit of [{ n: "bob" }, { x: Number(payload["x"]) + 86_400_000 }]) {
      const forged = Buffer.from(JSON.stringify({ ...payload, ...edit })).toString("base64url") + value.slice(-43);
      expect((await homeOf(app, `sop_session=${forged}`)).statusCode, JSON.stringify(edit)).toBe(303);
    }
  });
});
