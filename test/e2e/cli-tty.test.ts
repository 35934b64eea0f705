import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HAS_SCRIPT, sop, sopOnTerminal } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { Workspace } from "../helpers/workspace.ts";

let ws: Workspace;
let serve: ServeProcess | undefined;
beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("deploy-production");
});
afterEach(async () => {
  await serve?.stop();
  serve = undefined;
  await ws.remove();
});

/** `sop run deploy-production` on a terminal, approving the first gate and denying the second. */
function runOnTerminal(env: Record<string, string>): Promise<{ screen: string; code: number | null }> {
  return sopOnTerminal(["run", "deploy-production", "--sops", "sops"], { cwd: ws.root, env: ws.env(env) }, [
    ["step:3 (requires_approval)", "a\n"], ["step:5 (requires_approval)", "d\n"],
  ]);
}

describe.skipIf(!HAS_SCRIPT)("sop run on a terminal (needs util-linux script)", () => {
  it("asks at each gate and carries on with the answer typed there", async () => {
    const { screen, code } = await runOnTerminal({});
    expect(screen).toContain("step:3 approved by local:");
    expect(screen).toMatch(/approved step:3 of run \S+\r?\n/);
    expect(screen).toContain("deploy-production: denied");
    expect(code).toBe(1);
  });

  it("asks the same against a running server, and sop status says the same there as in-process, metrics too", async () => {
    serve = await ServeProcess.start(ws);
    const server = { SOP_SERVER_URL: serve.url, SOP_API_TOKEN: TOKENS.alice };
    const { screen, code } = await runOnTerminal(server);
    expect(screen).toMatch(/approved step:3 of run \S+\r?\n/);
    expect(screen).toContain("deploy-production: denied");
    expect(code).toBe(1);

    const remote = await sop(["status", "deploy-production"], { cwd: ws.root, env: ws.env(server) });
    expect(await serve.stop()).toBe(0);
    serve = undefined;
    const local = await sop(["status", "deploy-production", "--sops", "sops"], { cwd: ws.root, env: ws.env() });
    expect(remote.code).toBe(0);
    expect(local.code).toBe(0);
    expect(remote.stdout).toMatch(/^ {2}1 runs, success rate 0%, duration p50 \d+\.\d s/m);
    // The cooldown's seconds left tick on between the two.
    const steady = (out: string) => out.replace(/cooldown \d+ s left/, "cooldown N s left");
    expect(steady(remote.stdout)).toBe(steady(local.stdout));
  });

});
