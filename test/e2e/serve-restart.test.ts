/**
 * Issue 14, "the quick start works twice in a row": a restart of `sop serve` keeps the login
 * link it printed and the web sessions people opened (SPEC §7.2).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace } from "../helpers/workspace.ts";

let ws: Workspace;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("hello");
});
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  await ws.remove();
});

const SECRETS = () => join(ws.dataDir, "secrets");
const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

/** What a browser gets from the login link: the session cookie. */
async function openLink(link: string): Promise<{ status: number; cookie: string | undefined }> {
  const res = await fetch(link, { redirect: "manual" });
  return { status: res.status, cookie: res.headers.get("set-cookie")?.split(";")[0] };
}

/** The SOP list as the browser with `cookie` sees it, or where it is sent instead. */
async function home(url: string, cookie: string): Promise<{ status: number; location: string | null; body: string }> {
  const res = await fetch(`${url}/`, { headers: { cookie }, redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), body: await res.text() };
}

/** The login link `sop serve` prints; it may follow the line that says it listens. */
async function loginLink(s: ServeProcess): Promise<string> {
  const line = await until("the login link", () => s.hasLog(/^login: http:\/\/\S+\/\?token=\S+$/));
  return line.msg.slice("login: ".length);
}

describe("a restart of sop serve", () => {
  it("without API_TOKENS keeps the printed login link and the web session, both kept in DATA_DIR readable by the owner only", async () => {
    serve = await ServeProcess.start(ws, { API_TOKENS: "" });
    const firstLink = await loginLink(serve);
    expect(serve.hasLog(/this token was generated once and is kept in DATA_DIR\/secrets\/login-token/)).toBeDefined();
    const login = await openLink(firstLink);
    expect(login.status).toBe(303);
    const cookie = login.cookie!;
    expect((await home(serve.url, cookie)).body).toContain("hello");
    expect(await serve.stop()).toBe(0);

    expect(await modeOf(SECRETS())).toBe("700");
    expect(await modeOf(join(SECRETS(), "login-token"))).toBe("600");
    expect(await modeOf(join(SECRETS(), "session-key"))).toBe("600");

    serve = await ServeProcess.start(ws, { API_TOKENS: "" });
    const token = new URL(firstLink).searchParams.get("token")!;
    // The same token, at the new address (PORT=0 picks another port).
    expect(await loginLink(serve)).toBe(`${serve.url}/?token=${token}`);
    const after = await home(serve.url, cookie);
    expect(after.status).toBe(200);
    expect(after.body).toContain("hello");
    expect((await openLink(`${serve.url}/?token=${token}`)).status).toBe(303);
    expect((await serve.api("GET", "/api/sops", { token })).status).toBe(200);
  }, 60_000);

  it("with API_TOKENS generates no token and keeps sessions; SOP_SESSION_SECRET replaces the key in DATA_DIR, and a new secret ends the old sessions", async () => {
    serve = await ServeProcess.start(ws);
    expect(serve.hasLog(/^login: /)).toBeUndefined();
    const cookie = (await openLink(`${serve.url}/?token=${TOKENS.alice}`)).cookie!;
    await serve.stop();
    await expect(stat(join(SECRETS(), "login-token"))).rejects.toThrow(/ENOENT/);

    serve = await ServeProcess.start(ws);
    expect((await home(serve.url, cookie)).status).toBe(200);
    await serve.stop();

    const secret = "a-shared-secret-for-every-server-0123456789";
    serve = await ServeProcess.start(ws, { SOP_SESSION_SECRET: secret });
    // Signed with the key in DATA_DIR, which this server does not use: sign in again.
    expect(await home(serve.url, cookie)).toMatchObject({ status: 303, location: "/login?next=%2F" });
    const shared = (await openLink(`${serve.url}/?token=${TOKENS.bob}`)).cookie!;
    await serve.stop();

    serve = await ServeProcess.start(ws, { SOP_SESSION_SECRET: secret });
    const again = await home(serve.url, shared);
    expect(again.status).toBe(200);
    expect(again.body).toContain("api:bob");
  }, 60_000);

  it("refuses a SOP_SESSION_SECRET too short to be safe, and says how to make one", async () => {
    await expect(ServeProcess.start(ws, { SOP_SESSION_SECRET: "short" })).rejects.toThrow(
      "SOP_SESSION_SECRET must be at least 32 characters (it has 5); make one with: openssl rand -base64 32",
    );
  });
});
