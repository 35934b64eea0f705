import { spawn, spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOP_BIN, sop } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { Workspace } from "../helpers/workspace.ts";

// util-linux `script` gives the CLI a real terminal; it ships with Debian (bsdutils).
const hasScript = spawnSync("script", ["--version"]).status === 0;

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
async function runOnTerminal(env: Record<string, string>): Promise<{ screen: string; code: number | null }> {
  const child = spawn("script", ["-qec", `${process.execPath} ${SOP_BIN} run deploy-production --sops sops`, "/dev/null"], {
    cwd: ws.root, env: ws.env(env), stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  const answered = new Set<string>();
  child.stdout.on("data", (d: Buffer) => {
    screen += d.toString();
    for (const [gate, answer] of [["step:3 (requires_approval)", "a\n"], ["step:5 (requires_approval)", "d\n"]] as const) {
      if (screen.includes(gate) && !answered.has(gate)) {
        answered.add(gate);
        child.stdin.write(answer);
      }
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { screen, code };
}

describe.skipIf(!hasScript)("sop run on a terminal (needs util-linux script)", () => {
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
