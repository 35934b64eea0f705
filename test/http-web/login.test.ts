import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SESSION_TTL_MS } from "../../src/http/web/session.ts";
import { postForm, sessionCookieOf, signIn, TOKENS, webFixture, type WebFixture } from "../helpers/web-app.ts";

const ALICE = TOKENS.get("alice")!;
let web: WebFixture;

beforeEach(async () => {
  web = await webFixture((ws) => ws.addExample("hello"));
});
afterEach(async () => {
  await web.close();
});

describe("signing in to the web UI", () => {
  it("exchanges the login link's token for an HttpOnly, SameSite=Strict session cookie and drops the token from the address", async () => {
    const res = await web.app.inject({ method: "GET", url: `/?token=${ALICE}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers["location"]).toBe("/");
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/^sop_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain("Secure");
    expect(cookie).not.toContain(ALICE);
    const home = await web.app.inject({ method: "GET", url: "/", headers: { cookie: sessionCookieOf(res)! } });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain("api:alice");
    expect(home.body).toContain("hello");
  });

  it("signs nobody in from a login link another site opened (its clicks would count as the token's owner's)", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const res = await web.app.inject({ method: "GET", url: `/?token=${ALICE}`, headers: { "sec-fetch-site": site } });
      expect(res.statusCode).toBe(403);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.body).toContain("This sign-in link was opened from another site; nobody was signed in.");
    }
    // Pasted into the address bar, or opened from a terminal: the browser says "none".
    const pasted = await web.app.inject({ method: "GET", url: `/?token=${ALICE}`, headers: { "sec-fetch-site": "none" } });
    expect(pasted.statusCode).toBe(303);
    expect(sessionCookieOf(pasted)).toBeDefined();
  });

  it("marks the cookie Secure when the request came over https (here: through a trusted TLS proxy)", async () => {
    const proxied = await webFixture(async () => {}, { trustProxy: true });
    try {
      const res = await proxied.app.inject({ method: "GET", url: `/?token=${ALICE}`, headers: { "x-forwarded-proto": "https" } });
      expect(String(res.headers["set-cookie"])).toMatch(/; Secure$/);
    } finally {
      await proxied.close();
    }
    // Without trustProxy the header is only a claim: no Secure, or http sites could never log in.
    const res = await web.app.inject({ method: "GET", url: `/?token=${ALICE}`, headers: { "x-forwarded-proto": "https" } });
    expect(String(res.headers["set-cookie"])).not.toContain("Secure");
  });

  it("signs in through the login form and returns to the page asked for", async () => {
    const res = await postForm(web.app, undefined, "/login", { token: ALICE, next: "/runs" });
    expect(res.statusCode).toBe(303);
    expect(res.headers["location"]).toBe("/runs");
    expect(String(res.headers["set-cookie"])).toContain("HttpOnly");
  });

  it("answers a wrong token with the login page and an error, and sets no cookie", async () => {
    const link = await web.app.inject({ method: "GET", url: "/?token=wrong" });
    expect(link.statusCode).toBe(401);
    expect(link.headers["set-cookie"]).toBeUndefined();
    expect(link.body).toContain("That token is not valid.");
    const form = await postForm(web.app, undefined, "/login", { token: `${ALICE}x` });
    expect(form.statusCode).toBe(401);
    expect(form.headers["set-cookie"]).toBeUndefined();
    expect(form.body).toContain("That token is not valid.");
    expect(web.logs.some((l) => l.level === "warn" && l.msg?.includes("unknown token"))).toBe(true);
  });

  it("never redirects off-site after login", async () => {
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
      const res = await postForm(web.app, undefined, "/login", { token: ALICE, next });
      expect(res.headers["location"]).toBe("/");
    }
  });

  it("sends every page to the login page without a session, and fragments get 401", async () => {
    for (const url of ["/", "/sops/hello", "/runs", "/approvals", "/runs/abc", "/runs/abc/audit"]) {
      const res = await web.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(303);
      expect(res.headers["location"], url).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    const forged = await web.app.inject({ method: "GET", url: "/", headers: { cookie: "sop_session=made-up" } });
    expect(forged.statusCode).toBe(303);
    expect((await web.app.inject({ method: "GET", url: "/runs/abc/live" })).statusCode).toBe(401);
    expect((await web.app.inject({ method: "GET", url: "/runs/abc/events" })).statusCode).toBe(401);
    const login = await web.app.inject({ method: "GET", url: "/login?next=%2Fruns" });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('name="next" value="/runs"');
  });

  it("ends the session after 12 hours and at logout", async () => {
    const b = await signIn(web.app, ALICE);
    web.advance(SESSION_TTL_MS - 1000);
    expect((await web.app.inject({ method: "GET", url: "/", headers: { cookie: b.cookie } })).statusCode).toBe(200);
    web.advance(2000);
    expect((await web.app.inject({ method: "GET", url: "/", headers: { cookie: b.cookie } })).statusCode).toBe(303);

    const c = await signIn(web.app, ALICE);
    const out = await postForm(web.app, c, "/logout", { _csrf: c.csrf });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
    expect((await web.app.inject({ method: "GET", url: "/", headers: { cookie: c.cookie } })).statusCode).toBe(303);
  });
});

describe("headers of the web UI", () => {
  it("sends the CSP, X-Frame-Options and friends on pages, the login page and errors", async () => {
    const b = await signIn(web.app, ALICE);
    const responses = [
      await web.app.inject({ method: "GET", url: "/", headers: { cookie: b.cookie } }),
      await web.app.inject({ method: "GET", url: "/login" }),
      await web.app.inject({ method: "GET", url: "/runs/nope", headers: { cookie: b.cookie } }),
      await postForm(web.app, b, "/runs/nope/decide", {}),
    ];
    for (const res of responses) {
      expect(res.headers["content-security-policy"]).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
      );
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["referrer-policy"]).toBe("same-origin");
    }
    expect(responses[0]!.headers["cache-control"]).toBe("no-store");
    expect(responses[2]!.statusCode).toBe(404);
    expect(responses[3]!.statusCode).toBe(403);
  });

  it("has no inline script or style on any page", async () => {
    const b = await signIn(web.app, ALICE);
    const res = await web.app.inject({ method: "GET", url: "/sops/hello", headers: { cookie: b.cookie } });
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it("serves app.js and app.css with long cache headers, linked by content hash", async () => {
    const b = await signIn(web.app, ALICE);
    const page = (await web.app.inject({ method: "GET", url: "/", headers: { cookie: b.cookie } })).body;
    const js = /src="(\/static\/app\.js\?v=[0-9a-f]{12})"/.exec(page)?.[1];
    const css = /href="(\/static\/app\.css\?v=[0-9a-f]{12})"/.exec(page)?.[1];
    expect(js && css).toBeTruthy();
    const script = await web.app.inject({ method: "GET", url: js! });
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toContain("text/javascript");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const style = await web.app.inject({ method: "GET", url: css! });
    expect(style.headers["content-type"]).toContain("text/css");
    expect((await web.app.inject({ method: "GET", url: "/static/../index.ts" })).statusCode).toBe(404);
  });
});
