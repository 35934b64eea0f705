import { spawn, spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOP_BIN } from "../helpers/cli.ts";
import { Workspace } from "../helpers/workspace.ts";

// util-linux `script` gives the CLI a real terminal; it ships with Debian (bsdutils).
const hasScript = spawnSync("script", ["--version"]).status === 0;

let ws: Workspace;
beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("deploy-production");
});
afterEach(async () => {
  await ws.remove();
});

describe.skipIf(!hasScript)("sop run on a terminal (needs util-linux script)", () => {
  it("asks at each gate and carries on with the answer typed there", async () => {
    const child = spawn("script", ["-qec", `${process.execPath} ${SOP_BIN} run deploy-production --sops sops`, "/dev/null"], {
      cwd: ws.root, env: ws.env(), stdio: ["pipe", "pipe", "pipe"],
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
    expect(screen).toContain("step:3 approved by local:");
    expect(screen).toContain("deploy-production: denied");
    expect(code).toBe(1);
  });
});
