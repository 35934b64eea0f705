/**
 * The sop CLI against a running `sop serve` (moved from serve-lifecycle.test.ts): it finds the
 * server, goes through its API while the server holds DATA_DIR, and exits as in-process.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sop } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  await ws.remove();
});

describe("the CLI against a running server", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    sop(args, { cwd: ws.root, env: ws.env({ SOPS_DIR: ws.sopsDir, DATA_DIR: ws.dataDir, SOP_SERVER_URL: serve!.url, SOP_API_TOKEN: TOKENS.alice, ...env }) });

  it("runs and approves over HTTP while sop serve holds DATA_DIR, with the usual exit codes", async () => {
    await ws.addExample("deploy-production");
    serve = await ServeProcess.start(ws);
    const run = await cli(["run", "deploy-production", "--var", "version=4.0.0"]);
    expect(run.code, run.stderr).toBe(3);
    // Each finished step with its time and output, under its line, as in-process.
    expect(run.stderr).toMatch(/✓ 1\. Run Tests \(\d+\.\d s\)\n {6}running the test suite for 4\.0\.0\n {6}All tests passed\n/);
    const runId = /run (\S+) of deploy-production waits at step:3/.exec(run.stdout)![1]!;
    const first = await cli(["approve", "deploy-production", "--comment", "lgtm"]);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain("approved step:3");
    const status = await cli(["status", runId]);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain("step:3: approved by api:alice");
    const last = await cli(["approve", "deploy-production", runId, "--json"], { SOP_API_TOKEN: TOKENS.bob });
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ run_id: runId, status: "success", metrics: { approval_waits: 2 } });
    const nothing = await cli(["approve", "deploy-production"]);
    expect(nothing.code).toBe(4);
    expect(nothing.stderr).toContain("no run of deploy-production is waiting");
    const cooling = await cli(["run", "deploy-production"]);
    expect(cooling.code).toBe(4);
    expect(cooling.stderr).toMatch(/cooling down: \d+ s left/);
    const list = await cli(["list"]);
    expect(list.stdout).toContain("deploy-production");
    // Counted as started from the CLI, and recorded so, as when the CLI runs in-process.
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toMatch(/^sop_runs_accepted_total\{sop="deploy-production",trigger="manual",via="cli"\} 1$/m);
    expect(metrics).toMatch(/^sop_runs_refused_total\{sop="deploy-production",reason="cooldown",trigger="manual"\} 1$/m);
    expect((await serve.api<{ trigger: unknown }>("GET", `/api/runs/${runId}`)).json.trigger).toEqual({ type: "manual", source: "cli" });
  }, 60_000);

  it("feeds sop trigger to the server's command triggers", async () => {
    await ws.addSop("greet", `description = "x"\nexecution_mode = "automatic"\n[[triggers]]\ntype = "command"\npattern = "^greet (?<who>\\\\w+)$"\ncapture_groups = true`,
      steps('**Hi**\n```sh\necho "hi $SOP_VAR_WHO"\n```'));
    serve = await ServeProcess.start(ws);
    const r = await cli(["trigger", "greet", "world"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/run \S+ of greet: success/);
    const [record] = await ws.auditFiles("greet");
    expect(record).toMatchObject({ vars: { who: "world" }, trigger: { type: "command", source: "api", text: "greet world" }, requested_by: "api:alice" });
    expect((await cli(["trigger", "nothing", "matches"])).code).toBe(4);
  });

  it("says what to set when the token is wrong, and exits 4", async () => {
    serve = await ServeProcess.start(ws);
    const r = await cli(["cancel", "hello"], { SOP_API_TOKEN: "wrong" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("check SOP_API_TOKEN");
  });
});
