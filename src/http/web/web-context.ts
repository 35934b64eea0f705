/**
 * What every web UI handler gets: the runner, the session of the request, and the helpers that
 * render a page or send someone back with a message. Built once in registerWebUi.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SopRunner } from "../../app/sop-runner.ts";
import { html, layout, type SafeHtml } from "./html.ts";
import { NO_STORE } from "./security-headers.ts";
import type { Session, SessionStore } from "./session.ts";
import type { StaticAsset } from "./static-assets.ts";

export interface WebLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface WebUiDeps {
  runner: SopRunner;
  /** API tokens, name → token; a token's name is the actor `api:<name>`. */
  tokens: Map<string, string>;
  log: WebLog;
  /** The clock for session expiry; default Date.now (tests inject one). */
  now?: () => number;
  /** Signs the session cookies; default a random key, and sessions end with the process. */
  sessionKey?: string;
  /** LOGS_DIR: the audit record page checks the SOP's chain of files there (`sop audit verify`). */
  logsDir?: string;
}

export { RUN_ID, SOP_NAME } from "../../core/names.ts";

export class WebContext {
  private readonly bySession = new WeakMap<FastifyRequest, Session>();

  constructor(
    readonly runner: SopRunner,
    readonly sessions: SessionStore,
    readonly tokens: Map<string, string>,
    readonly log: WebLog,
    readonly assets: Map<string, StaticAsset>,
  ) {}

  bind(request: FastifyRequest, session: Session): void {
    this.bySession.set(request, session);
  }

  /** The request's session; routes that are not public run only after the hook bound one. */
  session(request: FastifyRequest): Session {
    const session = this.bySession.get(request);
    if (!session) throw new Error("web UI route ran without a session (is it marked public by mistake?)");
    return session;
  }

  actor(request: FastifyRequest): string {
    return `api:${this.session(request).tokenName}`;
  }

  get assetUrls(): { css: string; js: string } {
    return { css: this.assets.get("app.css")?.url ?? "/static/app.css", js: this.assets.get("app.js")?.url ?? "/static/app.js" };
  }

  /** A full page for a signed-in person; shows (and clears) the session's flash. */
  page(request: FastifyRequest, reply: FastifyReply, o: { title: string; body: SafeHtml; nav?: "sops" | "runs" | "approvals"; status?: number }): FastifyReply {
    const session = this.session(request);
    const flash = session.flash;
    delete session.flash;
    const doc = layout({
      title: o.title, body: o.body, user: session.tokenName, csrf: session.csrf, flash, assets: this.assetUrls,
      ...(o.nav ? { nav: o.nav } : {}),
    });
    return this.send(reply, doc, o.status ?? 200);
  }

  /** A page for someone not signed in (login, errors before a session exists). */
  publicPage(reply: FastifyReply, title: string, body: SafeHtml, status = 200): FastifyReply {
    return this.send(reply, layout({ title, body, assets: this.assetUrls }), status);
  }

  send(reply: FastifyReply, doc: SafeHtml, status = 200): FastifyReply {
    return reply.code(status).headers(NO_STORE).type("text/html; charset=utf-8").send(doc.value);
  }

  /** Post/redirect/get: remember a message for the next page and go there. */
  redirect(request: FastifyRequest, reply: FastifyReply, to: string, flash?: { kind: "ok" | "error"; text: string }): FastifyReply {
    if (flash) this.session(request).flash = flash;
    return reply.code(303).header("location", to).send();
  }

  notFound(request: FastifyRequest, reply: FastifyReply, what: string): FastifyReply {
    return this.page(request, reply, { title: "Not found", status: 404, body: html`<section class="card"><h1>Not found</h1><p>${what}</p><p><a href="/">Back to the SOP list</a></p></section>` });
  }
}
