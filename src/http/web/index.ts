/**
 * The web UI (SPEC §5.3, `GET /`): server-rendered pages, one script and one stylesheet, login
 * by API token into a cookie session, CSRF tokens on every form that changes something.
 * Everything registers inside its own encapsulated plugin, so its hooks, error page and form
 * parser touch no other route of the app.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { registerActionRoutes } from "./action-routes.ts";
import { registerPageRoutes } from "./page-routes.ts";
import { addFormParser } from "./form.ts";
import { registerAuthRoutes, registerHooks } from "./routes.ts";
import { readCookie, SESSION_COOKIE, SessionStore } from "./session.ts";
import { RunStreams } from "./sse.ts";
import { loadStaticAssets } from "./static-assets.ts";
import { WebContext, type WebUiDeps } from "./web-context.ts";

export type { WebUiDeps, WebLog } from "./web-context.ts";

/** The web UI's login, for other routes that must be behind it (Bull Board at /admin/queues). */
export interface WebSessions {
  /** Who is signed in on this request (its session cookie), or undefined: send them to /login. */
  sessionOf: (request: FastifyRequest) => { tokenName: string } | undefined;
}

export async function registerWebUi(app: FastifyInstance, deps: WebUiDeps): Promise<WebSessions> {
  const assets = await loadStaticAssets();
  const now = deps.now ?? (() => Date.now());
  const sessions = new SessionStore(now, (name) => deps.tokens.get(name), deps.sessionKey);
  const ctx = new WebContext(deps.runner, sessions, deps.tokens, deps.log, assets);
  const streams = new RunStreams(deps.runner.events);
  // Open event streams would keep close() waiting for their connections; end them first.
  // Fastify takes a hook that returns nothing as done at once, and catches its throw.
  app.addHook("preClose", () => {
    streams.closeAll();
  });
  // eslint-disable-next-line @typescript-eslint/require-await -- avvio catches a throw while registering only from a plugin that returns a promise
  await app.register(async (scope) => {
    addFormParser(scope);
    registerHooks(scope, ctx);
    registerAuthRoutes(scope, ctx);
    registerPageRoutes(scope, ctx, streams, { logsDir: deps.logsDir });
    registerActionRoutes(scope, ctx);
  });
  return {
    sessionOf: (request) => {
      const session = sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
      // A copy: the caller learns the name, never the CSRF secret or a handle to change the session.
      return session && { tokenName: session.tokenName };
    },
  };
}
