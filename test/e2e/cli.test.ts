import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sop, spawnSop } from "../helpers/cli.ts";
import { until } from "../helpers/until.ts";
import { EXAMPLES, Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
const opts = () => ({ cwd: ws.root, env: ws.env() });

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await ws.remove();
});

describe("sop validate and sop plan", () => {
  it("accepts the examples and exits 0", async () => {
    const r = await sop(["validate", EXAMPLES], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("4 valid SOPs");
  });

  it("prints each error as file:line:col and exits 1, while the good SOPs still load", async () => {
    await ws.addExample("hello");
    await ws.addSop("broken", `description = "x"\npriority = "urgent"`, steps("**Go** [if: a ==]"));
    const r = await sop(["validate", "sops"], opts());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sops/broken/SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"');
    expect(r.stderr).toContain('sops/broken/SOP.md:5:20: bad condition: expected a value after "==" (a quoted string, number, true, false or variable name)');
    expect(r.stderr).toContain("1 valid SOP in sops; 2 errors");
    const list = await sop(["list", "--sops", "sops"], opts());
    expect(list.stdout).toContain("hello");
  });

  it("reports a folder's manifest errors too when its SOP.md is missing", async () => {
    await mkdir(join(ws.sopsDir, "half"), { recursive: true });
    await writeFile(join(ws.sopsDir, "half", "SOP.toml"), '[sop]\nname = "half"\npriority = "urgent"\n');
    const r = await sop(["validate", "sops"], opts());
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("sops/half/SOP.md:1:1: missing SOP.md: every SOP folder needs SOP.toml and SOP.md");
    expect(r.stdout + r.stderr).toContain('sops/half/SOP.toml:3:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"');
  });

  it("plans deploy-production with tests_pass set, as JSON", async () => {
    const r = await sop(["plan", "deploy-production", "--sops", EXAMPLES, "--var", "tests_pass=true", "--json"], opts());
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { sop: string; steps: { number: number; title: string; decision: string; reason: string; certain: boolean }[] };
    expect(plan.sop).toBe("deploy-production");
    // Steps 4 and 5 read variables that earlier steps set through $SOP_OUTPUT: the plan says it cannot know.
    expect(plan.steps.map((s) => [s.number, s.decision, s.certain, s.reason])).toEqual([
      [1, "run", true, "runs: no condition"],
      [2, "run", true, 'runs: tests_pass is "true"'],
      [3, "approval", true, "waits for approval: requires_approval"],
      [4, "skip", false, "skips unless an earlier step sets staging_ok (staging_ok is unset)"],
      [5, "skip", false, "skips unless an earlier step sets staging_verified (staging_verified is unset)"],
    ]);
  });

  it("exits 4 for an unknown SOP and 2 for a usage error", async () => {
    expect((await sop(["plan", "nope", "--sops", EXAMPLES], opts())).code).toBe(4);
    expect((await sop(["plan"], opts())).code).toBe(2);
    expect((await sop(["frobnicate"], opts())).code).toBe(2);
    expect((await sop(["run", "nope", "--sops", EXAMPLES], opts())).code).toBe(4);
  });
});

describe("sop run, approve, status, audit verify", () => {
  it("runs deploy-production to its gates, approved twice from other processes, and the audit chain verifies", async () => {
    await ws.addExample("deploy-production");
    const run = await sop(["run", "deploy-production", "--sops", "sops", "--var", "version=2.0.0"], opts());
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("⏸ step:3 (3. Deploy to Staging) waits for approval");
    const runId = /run (\S+) of deploy-production waits at step:3/.exec(run.stdout)![1]!;
    expect((await sop(["approve", "deploy-production", "--sops", "sops", "--comment", "lgtm"], opts())).code).toBe(3);
    const last = await sop(["approve", "deploy-production", runId, "--sops", "sops", "--json"], opts());
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ run_id: runId, status: "success", metrics: { approval_waits: 2, steps_completed: 5 } });
    expect((await sop(["status", runId, "--sops", "sops"], opts())).code).toBe(0);
    expect((await sop(["approve", "deploy-production", "--sops", "sops"], opts())).code).toBe(4);
    const verify = await sop(["audit", "verify"], opts());
    expect(verify.code).toBe(0);
    const dir = join(ws.logsDir, "sop", "deploy-production");
    const [file] = await readdir(dir);
    const record = JSON.parse(await readFile(join(dir, file!), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, file!), JSON.stringify({ ...record, requested_by: "local:someone-else" }));
    const tampered = await sop(["audit", "verify"], opts());
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`edited: sop/deploy-production/${file} (seq 1) was edited`);
  });

  it("prints each finished step's output under its line, and --quiet leaves it out", async () => {
    await ws.addExample("hello");
    const run = await sop(["run", "hello", "--var", "who=you", "--sops", "sops"], opts());
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/✓ 1\. Greet \(\d+\.\d s\)\n {6}Hello, you!\n/);
    const quiet = await sop(["run", "hello", "--var", "who=you", "--sops", "sops", "--quiet"], opts());
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toContain("✓ 1. Greet");
    expect(quiet.stderr).not.toContain("Hello, you!");
  });

  it("denies with a reason and exits 1", async () => {
    await ws.addExample("security-patch");
    expect((await sop(["run", "security-patch", "--sops", "sops"], opts())).code).toBe(3);
    const deny = await sop(["deny", "security-patch", "--sops", "sops", "--reason", "not during the freeze", "--json"], opts());
    expect(deny.code).toBe(1);
    expect(JSON.parse(deny.stdout)).toMatchObject({ status: "denied", end_reason: "denied by local:root: not during the freeze" });
  });

  it("runs the security-patch rollback when the patch fails", async () => {
    await ws.addExample("security-patch");
    const r = await sop(["run", "security-patch", "--sops", "sops", "--approve-all", "--var", "simulate_failure=true", "--json"], opts());
    expect(r.code).toBe(1);
    const record = JSON.parse(r.stdout) as { steps: { title: string; status: string }[] };
    expect(record.steps.map((s) => [s.title, s.status])).toEqual([
      ["Check Advisories", "success"], ["Snapshot System", "success"], ["Patch", "failed"], ["Roll Back", "success"],
    ]);
  });

  it("runs db-backup end to end", async () => {
    await ws.addExample("db-backup");
    const r = await sop(["run", "db-backup", "--sops", "sops", "--json"], opts());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "success", metrics: { steps_completed: 3, steps_skipped: 1 } });
    expect((await sop(["run", "db-backup", "--sops", "sops"], opts())).code).toBe(4);
  });

  it("lets a second local command wait for the first to let go of DATA_DIR, and sop status look meanwhile", async () => {
    await ws.addSop("slow", `description = "x"\nexecution_mode = "automatic"`, steps('**Nap**\n```sh\ntouch "$TMPDIR/napping"; sleep 4\n```'));
    await ws.addSop("quick", `description = "x"\nexecution_mode = "automatic"`, steps("**Note**"));
    const first = sop(["run", "slow", "--sops", "sops"], opts());
    await until("the first command to hold DATA_DIR", () => readFile(join(ws.tmpDir, "napping")).then(() => true, () => false), 15_000);
    const [status, second] = await Promise.all([sop(["status", "slow", "--sops", "sops"], opts()), sop(["run", "quick", "--sops", "sops"], opts())]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("slow: 1 active, 0 queued");
    expect(second.stderr).toMatch(/waiting for DATA_DIR: another sop command \(sop run, pid \d+\) is using it/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(second.code).toBe(0);
    expect((await first).code).toBe(0);
  });

  it("after kill -9 mid-step, sop status says the run was interrupted, and the next process marks the step so, frees the slot and never re-runs a completed step", async () => {
    const marker = `cli-kill9-${process.pid}-${Date.now()}`;
    await ws.addSop("long", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 1`, steps(
      '**Count**\n```sh\necho x >> "$TMPDIR/count"\n```',
      `**Sleep**\n\`\`\`sh\ntouch "$TMPDIR/sleeping"; sleep 60 # ${marker}\n\`\`\``,
      "**After**",
    ));
    await ws.addSop("quick", `description = "x"\nexecution_mode = "automatic"`, steps("**Note**"));
    const child = spawnSop(["run", "long", "--sops", "sops"], opts());
    await until("the second step to be running", () => readFile(join(ws.tmpDir, "sleeping")).then(() => true, () => false), 15_000);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const runId = (await readdir(join(ws.dataDir, "runs")))[0]!.replace(/\.json$/, "");

    // Read-only: it shows the run as stored, says why nothing moves it, and changes nothing.
    const status = await sop(["status", runId, "--sops", "sops", "--json"], opts());
    expect(status.stderr).not.toMatch(/error|\n\s+at /);
    expect(status.stderr).toMatch(/no sop process is running run .*: the process that ran it stopped/);
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe("running");
    await until("the command to end with the process that ran it", () => spawnSync("pgrep", ["-f", marker]).status === 1);

    // Any process that works recovers it: here a run of another SOP.
    expect((await sop(["run", "quick", "--sops", "sops"], opts())).code).toBe(0);
    const after = await sop(["status", runId, "--sops", "sops", "--json"], opts());
    expect(after.code).toBe(1);
    const record = JSON.parse(after.stdout) as { status: string; seq?: number; steps: { status: string; reason?: string; output: string }[] };
    expect(record.status).toBe("failed");
    expect(record.seq).toBe(1);
    expect(record.steps.map((s) => s.status)).toEqual(["success", "failed", "skipped"]);
    expect(record.steps[1]!.reason).toBe("interrupted");
    expect(record.steps[1]!.output).toMatch(/--- interrupted \(its process group \d+ on .* had ended\) ---/);
    expect(await readFile(join(ws.tmpDir, "count"), "utf8")).toBe("x\n");
    // Its slot is free: the next run of the SOP starts (and, with its step, runs).
    const next = spawnSop(["run", "long", "--sops", "sops"], opts());
    await until("the next run to reach its long step", async () => (await readFile(join(ws.tmpDir, "count"), "utf8")) === "x\nx\n", 15_000);
    next.kill("SIGKILL");
    await new Promise((r) => next.on("close", r));
    spawnSync("pkill", ["-f", marker]);
  });

});
