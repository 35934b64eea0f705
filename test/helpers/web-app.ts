/** A fastify app with only the web UI on it, over a real runner in a temporary workspace. */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { registerWebUi } from "../../src/http/web/index.ts";
import { Workspace } from "./workspace.ts";

export const TOKENS = new Map([["alice", "alice-secret-token-0123456789"], ["bob", "bob-secret-token-9876543210"]]);

export interface WebFixture {
  ws: Workspace;
  runner: SopRunner;
  app: FastifyInstance;
  logs: { level: string; msg: string | undefined; obj: object }[];
  /** Moves the sessions' clock (session expiry). */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function webFixture(setup: (ws: Workspace) => Promise<void>, opts: { admins?: string[]; trustProxy?: boolean } = {}): Promise<WebFixture> {
  const ws = await Workspace.create();
  await setup(ws);
  const runner = await ws.runner(opts.admins ? { admins: opts.admins } : {});
  const app = Fastify({ trustProxy: opts.trustProxy ?? false });
  const logs: WebFixture["logs"] = [];
  const entry = (level: string) => (obj: object, msg?: string) => { logs.push({ level, msg, obj }); };
  let offset = 0;
  await registerWebUi(app, {
    runner, tokens: TOKENS, log: { info: entry("info"), warn: entry("warn"), error: entry("error") },
    now: () => Date.now() + offset,
  });
  await app.ready();
  return {
    ws, runner, app, logs,
    advance: (ms) => { offset += ms; },
    close: async () => {
      await app.close();
      await runner.close();
      await ws.remove();
    },
  };
}

export interface Browser {
  cookie: string;
  csrf: string;
}

/** The `name=value` part of the session cookie a response sets. */
export function sessionCookieOf(res: LightMyRequestResponse): string | undefined {
  const header = res.headers["set-cookie"];
  const first = Array.isArray(header) ? header[0] : header;
  return first?.split(";")[0];
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error("no CSRF field on the page");
  return m[1];
}

/** Signs in through the login link and reads the CSRF token off the SOP list. */
export async function signIn(app: FastifyInstance, token: string): Promise<Browser> {
  const login = await app.inject({ method: "GET", url: `/?token=${encodeURIComponent(token)}` });
  const cookie = sessionCookieOf(login);
  if (login.statusCode !== 303 || !cookie) throw new Error(`login failed: ${login.statusCode}`);
  const home = await app.inject({ method: "GET", url: "/", headers: { cookie } });
  return { cookie, csrf: csrfOf(home.body) };
}

/** A same-origin form post, as a browser sends it. */
export function postForm(app: FastifyInstance, b: Browser | undefined, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: "POST", url,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(b ? { cookie: b.cookie } : {}),
      ...headers,
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** Follows a 303 the way a browser would, with the same cookie. */
export async function follow(app: FastifyInstance, b: Browser, res: LightMyRequestResponse) {
  const location = res.headers["location"];
  if (res.statusCode !== 303 || typeof location !== "string") throw new Error(`expected a redirect, got ${res.statusCode}: ${res.body.slice(0, 200)}`);
  return app.inject({ method: "GET", url: location, headers: { cookie: b.cookie } });
}
