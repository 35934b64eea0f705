import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sop } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
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

const exists = (path: string) => readFile(path).then(() => true, () => false);

describe("sop serve start-up and shutdown", () => {
  it("prints what loaded, the queue driver, the address and which chat platforms are off", async () => {
    await ws.addExample("hello");
    await ws.addSop("broken", `description = "x"\npriority = "urgent"`, steps("**Go**"));
    serve = await ServeProcess.start(ws);
    const lines = serve.logs.map((l) => l.msg);
    expect(lines).toContain(`SOPs: 1 loaded from ${ws.sopsDir}: hello`);
    expect(lines).toContain(`${ws.sopsDir}/broken/SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"`);
    expect(lines).toContain(`queue: in-process (DATA_DIR=${ws.dataDir})`);
    expect(lines).toContain("Slack: off (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN not set)");
    expect(lines).toContain("Discord: off (DISCORD_TOKEN and DISCORD_APPLICATION_ID not set)");
    expect(lines.some((l) => l.startsWith("API tokens: alice, bob, carol (from API_TOKENS)"))).toBe(true);
    expect(lines.join("\n")).not.toContain(TOKENS.alice);
    expect(await serve.stop("SIGINT")).toBe(0);
  });

  it("refuses to listen beyond loopback without API_TOKENS", async () => {
    const child = await sop(["serve"], { cwd: ws.root, env: ws.env({ SOPS_DIR: ws.sopsDir, DATA_DIR: ws.dataDir, HOST: "0.0.0.0", PORT: "0" }) });
    expect(child.code).toBe(2);
    expect(child.stdout).toContain("refusing to listen on HOST=0.0.0.0 without API_TOKENS");
  });

  it("without API_TOKENS generates a token, prints a login link, and the CLI finds the server and the token", async () => {
    await ws.addExample("hello");
    serve = await ServeProcess.start(ws, { API_TOKENS: "" });
    // start() waits for the listening line, which comes after every other start-up line.
    const login = serve.hasLog(/^login: http:\/\/127\.0\.0\.1:\d+\/\?token=/)!;
    const token = /token=(\S+)/.exec(login.msg)![1]!;
    expect((await serve.api("GET", "/api/sops", { token })).status).toBe(200);
    // No SOP_SERVER_URL and no token in the environment: server.json in DATA_DIR says both.
    const run = await sop(["run", "hello", "--json"], { cwd: ws.root, env: ws.env({ DATA_DIR: ws.dataDir }) });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "success", requested_by: expect.stringMatching(/^api:/) });
  });

  it("on SIGTERM during a step exits 0, kills the command, and the next start recovers the run with the step interrupted", async () => {
    const marker = `serve-sigterm-${process.pid}-${Date.now()}`;
    await ws.addSop("long", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**Count**\n```sh\necho x >> "$TMPDIR/count"\n```',
      `**Sleep**\n\`\`\`sh\ntouch "$TMPDIR/sleeping"; sleep 60 # ${marker}\n\`\`\``,
      "**After**",
    ));
    serve = await ServeProcess.start(ws);
    const { json } = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "long" } });
    await until("the second step to run", () => exists(join(ws.tmpDir, "sleeping")), 15_000);
    expect(spawnSync("pgrep", ["-f", marker]).status, "the step's shell runs").toBe(0);
    const stoppedAt = Date.now();
    expect(await serve.stop("SIGTERM")).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(serve.hasLog(/interrupting 1 running step/)).toBeDefined();
    expect(serve.hasLog(/^stopped$/)).toBeDefined();
    expect(await exists(join(ws.dataDir, "server.json"))).toBe(false);
    expect(spawnSync("pgrep", ["-f", marker]).status, "the step's shell is still running").toBe(1);

    serve = await ServeProcess.start(ws);
    const record = await serve.runUntil(json.run_id, "the run to be recovered", (r) => r.status === "failed");
    const { steps: done } = record as unknown as { steps: { status: string; reason?: string }[] };
    expect(done.map((s) => s.status)).toEqual(["success", "failed", "skipped"]);
    expect(done[1]!.reason).toBe("interrupted");
    expect(await readFile(join(ws.tmpDir, "count"), "utf8")).toBe("x\n");
  });

  it("lets running steps finish within the shutdown grace", async () => {
    await ws.addSop("short", `description = "x"\nexecution_mode = "automatic"`, steps('**Nap**\n```sh\ntouch "$TMPDIR/napping"; sleep 1\n```'));
    serve = await ServeProcess.start(ws, { SOP_SHUTDOWN_GRACE_SECS: "20" });
    const { json } = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "short" } });
    await until("the step to run", () => exists(join(ws.tmpDir, "napping")));
    expect(await serve.stop("SIGTERM")).toBe(0);
    const [record] = await ws.auditFiles("short");
    expect(record).toMatchObject({ run_id: json.run_id, status: "success" });
  });
});
