/**
 * Issue 14, "the quick start works twice in a row": a second run inside the cooldown is refused
 * with how long is left and how an admin starts it anyway, on the CLI and over the API.
 */
import { userInfo } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sop } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { Workspace } from "../helpers/workspace.ts";

let ws: Workspace;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("db-backup");
});
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  await ws.remove();
});

const HOW = 'an admin may start it anyway: sop run db-backup --force, "force": true in the API, or "Start anyway" on the web';

describe("a run inside the cooldown", () => {
  it("is refused on the CLI with the seconds left and how to force it, and --force starts it, recorded", async () => {
    const opts = { cwd: ws.root, env: ws.env() };
    expect((await sop(["run", "db-backup", "--sops", "sops"], opts)).code).toBe(0);
    const again = await sop(["run", "db-backup", "--sops", "sops"], opts);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^db-backup is cooling down: 86\d{3} s left \(cooldown_secs = 86400\); (.*)$/m);
    expect(again.stderr).toContain(HOW);
    const forced = await sop(["run", "db-backup", "--sops", "sops", "--force", "--json"], opts);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: "success", cooldown_forced_by: `local:${userInfo().username}` });
  }, 60_000);

  it("answers 429 with Retry-After and the same words over the API and the CLI through it; an admin's force: true starts it", async () => {
    serve = await ServeProcess.start(ws, { SOP_ADMINS: "api:alice" });
    expect((await serve.api("POST", "/api/sop/execute", { body: { sop: "db-backup" } })).status).toBe(202);
    const refused = await serve.api<{ error: string; retry_after_secs: number }>("POST", "/api/sop/execute", { body: { sop: "db-backup" } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBe(refused.json.retry_after_secs);
    expect(refused.json.error).toMatch(/^db-backup is cooling down: \d+ s left \(cooldown_secs = 86400\); /);
    expect(refused.json.error).toContain(HOW);

    const cli = await sop(["run", "db-backup"], { cwd: ws.root, env: ws.env({ SOP_SERVER_URL: serve.url, SOP_API_TOKEN: TOKENS.bob }) });
    expect(cli.code).toBe(4);
    expect(cli.stderr).toContain(HOW);

    const notAdmin = await serve.api("POST", "/api/sop/execute", { token: TOKENS.bob, body: { sop: "db-backup", force: true } });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.json).toMatchObject({ error: "not allowed: only admins may start db-backup during its cooldown" });
    const forced = await serve.api("POST", "/api/sop/execute", { body: { sop: "db-backup", force: true } });
    expect(forced.status).toBe(202);
    expect(forced.json).toMatchObject({ cooldown_forced_by: "api:alice" });
  }, 60_000);
});
