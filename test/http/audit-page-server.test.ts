/**
 * The audit record page of the whole server (buildServer, as `sop serve` builds it) checks the
 * SOP's chain of audit files in LOGS_DIR: the check is wired in, not only in the web UI's tests.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { readConfig } from "../../src/config/config.ts";
import { buildServer } from "../../src/http/server.ts";
import { signIn, TOKENS } from "../helpers/web-app.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace | undefined;
let runner: SopRunner | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  await runner?.close();
  await ws?.remove();
  app = runner = ws = undefined;
});

describe("the audit record page of sop serve's server", () => {
  it("says whether the SOP's chain of audit files verifies", async () => {
    ws = await Workspace.create();
    await ws.addSop("ship", `description = "x"\nexecution_mode = "automatic"`, steps("**Ship**\n```sh\necho shipped\n```"));
    const env = ws.env({ LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir, SOPS_DIR: ws.sopsDir });
    runner = await ws.runner({ env });
    app = await buildServer({ runner, config: readConfig(env, ws.root), tokens: TOKENS, log: pino({ level: "silent" }) });
    await app.ready();
    const run = await runner.execute("ship", { actor: "api:alice" });
    expect((await runner.record(run.run_id)).hash).toBeDefined();
    const b = await signIn(app, TOKENS.get("alice")!);
    const page = await app.inject({ method: "GET", url: `/runs/${run.run_id}/audit`, headers: { cookie: b.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("The chain of ship verifies: 1 sealed record, none edited, removed or out of order.");
  });
});
