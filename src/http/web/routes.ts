/**
 * The web UI's plumbing: security headers, the session gate, CSRF, login and logout, static
 * files. Pages and actions register in page-routes.ts and action-routes.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { actorForToken } from "../auth.ts";
import { CSRF_FIELD, validCsrf } from "./csrf.ts";
import { field, safeNext } from "./form.ts";
import { loginPage, messagePage } from "./pages/login.ts";
import { SECURITY_HEADERS } from "./security-headers.ts";
import { readCookie, SESSION_COOKIE, SESSION_TTL_MS, sessionCookie } from "./session.ts";
import { LONG_CACHE } from "./static-assets.ts";
import type { WebContext } from "./web-context.ts";

/** Routes anyone may reach: `config: PUBLIC`. */
export const PUBLIC = { webPublic: true } as const;

const isPublic = (request: FastifyRequest): boolean =>
  (request.routeOptions.config as { webPublic?: boolean } | undefined)?.webPublic === true;

/** `GET /?token=…`: the login link; its handler signs in before anything needs a session. */
const isTokenLink = (request: FastifyRequest): boolean =>
  request.method === "GET" && request.routeOptions.url === "/" && typeof (request.query as { token?: unknown }).token === "string";

/** Parts of a page fetched by script: answering them with the login page would make no sense. */
const isFragment = (request: FastifyRequest): boolean => /\/(live|events)$/.test(request.routeOptions.url ?? "");

export function registerHooks(scope: FastifyInstance, ctx: WebContext): void {
  scope.addHook("onSend", async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });

  scope.addHook("preHandler", async (request, reply) => {
    // Browsers say where a request came from; no cross-site form may change anything here.
    if (request.method === "POST" && ["cross-site", "same-site"].includes(request.headers["sec-fetch-site"] ?? "")) {
      return ctx.publicPage(reply, "Refused", messagePage("Refused", "This form was sent from another site; nothing changed."), 403);
    }
    if (isPublic(request) || isTokenLink(request)) return undefined;
    const session = ctx.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
    if (!session) {
      if (isFragment(request)) return reply.code(401).type("text/plain; charset=utf-8").send("sign in again");
      const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
      return reply.code(303).header("location", `/login${next}`).send();
    }
    if (request.method === "POST" && !validCsrf(field(request.body, CSRF_FIELD), session.csrf)) {
      ctx.log.warn({ token: session.tokenName, url: request.url }, "web form without a valid CSRF token refused");
      return ctx.publicPage(reply, "Refused", messagePage("Refused", "This form expired or did not come from this site; nothing changed. Reload the page and try again."), 403);
    }
    ctx.bind(request, session);
    return undefined;
  });

  scope.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) ctx.log.error({ err, url: request.url }, "web UI request failed");
    const text = status === 500 ? "Something went wrong on the server; it is in the log." : err.message;
    return ctx.publicPage(reply, "Error", messagePage(status === 500 ? "Server error" : "Bad request", text), status);
  });
}

function logIn(request: FastifyRequest, reply: FastifyReply, ctx: WebContext, token: string | undefined, next: string | undefined) {
  // The API's own constant-time lookup: the UI accepts exactly the tokens the API does.
  const name = actorForToken(ctx.tokens, token)?.replace(/^api:/, "");
  if (name === undefined) {
    ctx.log.warn({ ip: request.ip }, "web login with an unknown token refused");
    const error = token ? "That token is not valid." : "Enter a token.";
    return ctx.publicPage(reply, "Sign in", loginPage({ error, ...(next ? { next } : {}) }), 401);
  }
  const session = ctx.sessions.create(name);
  ctx.log.info({ token: name }, "web login");
  return reply
    .code(303)
    .header("set-cookie", sessionCookie(session.id, { secure: request.protocol === "https", maxAgeSecs: SESSION_TTL_MS / 1000 }))
    .header("location", next ?? "/")
    .send();
}

export function registerAuthRoutes(scope: FastifyInstance, ctx: WebContext): void {
  scope.get("/login", { config: PUBLIC }, async (request, reply) => {
    const next = safeNext((request.query as { next?: string }).next);
    if (ctx.sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE))) return reply.code(303).header("location", next ?? "/").send();
    return ctx.publicPage(reply, "Sign in", loginPage(next ? { next } : {}));
  });

  scope.post("/login", { config: PUBLIC }, async (request, reply) =>
    logIn(request, reply, ctx, field(request.body, "token"), safeNext(field(request.body, "next"))));

  scope.post("/logout", async (request, reply) => {
    ctx.sessions.delete(ctx.session(request).id);
    return reply
      .code(303)
      .header("set-cookie", sessionCookie("", { secure: request.protocol === "https", maxAgeSecs: 0 }))
      .header("location", "/login")
      .send();
  });

  scope.get("/static/:file", { config: PUBLIC }, async (request, reply) => {
    const asset = ctx.assets.get((request.params as { file: string }).file);
    if (!asset) return reply.code(404).type("text/plain; charset=utf-8").send("not found");
    return reply.header("cache-control", LONG_CACHE).type(asset.type).send(asset.body);
  });
}

/**
 * `GET /?token=…`, the login link `sop serve` prints: exchanged for a session, then redirected
 * so the token leaves the address bar and the history. Without a token, `/` is the SOP list.
 */
export async function tokenLink(request: FastifyRequest, reply: FastifyReply, ctx: WebContext): Promise<FastifyReply | undefined> {
  const token = (request.query as { token?: unknown }).token;
  if (typeof token !== "string") return undefined;
  // Opened from another site, the link would sign this browser in as whoever's token it carries
  // (their clicks then recorded as that person's): only a link typed, pasted or opened from outside a browser counts.
  if (["cross-site", "same-site"].includes(request.headers["sec-fetch-site"] ?? "")) {
    return ctx.publicPage(reply, "Refused", messagePage("Refused", "This sign-in link was opened from another site; nobody was signed in. Paste it into the address bar, or sign in with your token."), 403);
  }
  return logIn(request, reply, ctx, token, undefined);
}
