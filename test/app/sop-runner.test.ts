import { existsSync, readdirSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { SopError } from "../../src/app/sop-error.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
let runner: SopRunner | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await runner?.close();
  runner = undefined;
  await ws.remove();
});

async function refusal(p: Promise<unknown>): Promise<SopError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SopError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("running SOPs in-process", () => {
  it("pauses deploy-production at both approvals, resumes after each, and writes the seed's audit fields", async () => {
    await ws.addExample("deploy-production");
    runner = await ws.runner();
    const first = await runner.execute("deploy-production", { vars: { version: "1.2.3" }, actor: "api:alice" });
    expect(first.status).toBe("awaiting_approval");
    expect(first.approvals.map((a) => a.gate)).toEqual(["step:3"]);
    const second = await runner.approve("deploy-production", { actor: "slack:UBOB", comment: "lgtm", wait: true });
    expect(second.record.status).toBe("awaiting_approval");
    const done = await runner.approve("deploy-production", { actor: "slack:UCAROL", wait: true });
    expect(done.record.status).toBe("success");
    const [record] = await ws.auditFiles("deploy-production");
    expect(record).toMatchObject({
      sop: "deploy-production", version: "1.0.0", status: "success", requested_by: "api:alice",
      vars: { version: "1.2.3", tests_pass: "true", staging_ok: "true", staging_verified: "true" },
      metrics: { steps_completed: 5, steps_skipped: 0, steps_failed: 0, approval_waits: 2 },
      seq: 1,
    });
    expect(record!.approvals.map((a) => [a.gate, a.decision, a.by, a.comment])).toEqual([
      ["step:3", "approved", ["slack:UBOB"], "lgtm"], ["step:5", "approved", ["slack:UCAROL"], null],
    ]);
    expect(record!.steps[0]!.output).toContain("All tests passed");
  });

  it("resolves an awaited run with the sealed record its audit file holds", async () => {
    await ws.addSop("notes", `description = "x"\nexecution_mode = "automatic"`, steps("**One**", "**Two**"));
    runner = await ws.runner();
    const records = await Promise.all([runner.execute("notes"), runner.execute("notes"), runner.execute("notes")]);
    const files = await ws.auditFiles("notes");
    for (const record of records) {
      expect(record.status).toBe("success");
      expect(files.find((f) => f.run_id === record.run_id)).toEqual(record);
    }
  });

  it("keeps a waiting run across a restart, and the next process approves and finishes it", async () => {
    await ws.addExample("deploy-production");
    runner = await ws.runner();
    const waiting = await runner.execute("deploy-production");
    await runner.close();
    runner = await ws.runner();
    const status = await runner.getStatus("deploy-production");
    expect(status.active.map((r) => [r.id, r.status])).toEqual([[waiting.run_id, "awaiting_approval"]]);
    await runner.approve("deploy-production", { wait: true });
    const done = await runner.approve("deploy-production", { wait: true });
    expect(done.record.status).toBe("success");
  });

  it("hands variables to commands only as environment variables, so a value cannot inject shell", async () => {
    await ws.addSop("echo-var", `description = "x"\nexecution_mode = "automatic"`, steps('**Echo**\n```sh\nprintf "%s" "$SOP_VAR_VERSION"\n```'));
    runner = await ws.runner();
    const value = "1.2.3; touch $TMPDIR/pwned; `touch $TMPDIR/pwned2`";
    const record = await runner.execute("echo-var", { vars: { version: value } });
    expect(record.steps[0]!.output).toBe(value);
    expect(existsSync(join(ws.tmpDir, "pwned"))).toBe(false);
    expect(existsSync(join(ws.tmpDir, "pwned2"))).toBe(false);
  });

  it("refuses a run inside the cooldown with the seconds left; an admin may force it and it is recorded", async () => {
    await ws.addSop("cool", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 3600`, steps("**Note**"));
    runner = await ws.runner({ admins: ["api:root"] });
    await runner.execute("cool", { actor: "api:alice" });
    const err = await refusal(runner.execute("cool", { actor: "api:alice" }));
    expect(err.code).toBe("cooldown");
    expect(err.details.retryAfterSecs).toBeGreaterThan(3590);
    expect(err.message).toMatch(/cool is cooling down: \d+ s left/);
    expect((await refusal(runner.execute("cool", { actor: "api:alice", force: true }))).code).toBe("not_allowed");
    const forced = await runner.execute("cool", { actor: "api:root", force: true });
    expect(forced.cooldown_forced_by).toBe("api:root");
  });

  it("keeps runs queued while max_concurrent are active, and starts the next when a slot frees", async () => {
    await ws.addSop("one-at-a-time", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 1`, steps("**Wait**\n```sh\nsleep 0.3\n```"));
    runner = await ws.runner();
    const a = await runner.execute("one-at-a-time", { wait: false });
    const b = await runner.execute("one-at-a-time", { wait: false });
    await until("b to be queued while a runs", async () => (await runner!.run(a.run_id))?.run.status === "running");
    expect((await runner.run(b.run_id))!.run.status).toBe("queued");
    const [ra, rb] = await until("both to finish", async () => {
      const both = await Promise.all([runner!.record(a.run_id), runner!.record(b.run_id)]);
      return both.every((r) => r.status === "success") ? both : undefined;
    });
    expect(Date.parse(rb.started_at!)).toBeGreaterThanOrEqual(Date.parse(ra.completed_at!));
    expect(rb.metrics.queue_wait_ms).toBeGreaterThan(100);
  });

  it("a run waiting for approval holds its max_concurrent slot", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "supervised"\nmax_concurrent = 1`, steps("**Go**\n```sh\ntrue\n```"));
    await ws.addSop("marker", `description = "x"\nexecution_mode = "automatic"`, steps("**Note**"));
    // One job at a time, first in first out: once the marker run is done, so is every job queued before it.
    runner = await ws.runner({ concurrency: 1 });
    await runner.execute("gated");
    const second = await runner.execute("gated", { wait: false });
    expect((await runner.execute("marker")).status).toBe("success");
    expect((await runner.run(second.run_id))!.run.status).toBe("queued");
    await runner.approve("gated", { wait: true });
    await until("the queued run to start and wait", async () => (await runner!.run(second.run_id))?.run.status === "awaiting_approval");
  });

  it("cancelling a run kills its running command and cancels what is left", async () => {
    await ws.addSop("slow", `description = "x"\nexecution_mode = "automatic"`, steps("**Sleep**\n```sh\nsleep 30\n```", "**After**"));
    runner = await ws.runner();
    const run = await runner.execute("slow", { wait: false });
    await until("the command to run", async () => (await runner!.run(run.run_id))?.run.steps[0]!.status === "running");
    const started = Date.now();
    const { record } = await runner.cancel("slow", { reason: "wrong version" });
    expect(record.status).toBe("cancelled");
    expect(record.end_reason).toBe("cancelled by local:root: wrong version");
    expect(record.steps.map((s) => s.status)).toEqual(["cancelled", "cancelled"]);
    await until("the worker to finish", async () => !(await runner!.run(run.run_id))?.run.steps.some((s) => s.status === "running"));
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("records a refused approver in the audit and leaves the run waiting", async () => {
    await ws.addSop("guarded", `description = "x"\n[approval]\napprovers = ["slack:UBOB"]`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    runner = await ws.runner();
    const run = await runner.execute("guarded", { actor: "api:alice" });
    const err = await refusal(runner.approve("guarded", { actor: "slack:UMALLORY" }));
    expect(err.code).toBe("not_allowed");
    expect(err.message).toBe("not allowed: slack:UMALLORY is not an approver of step:1 (approvers: slack:UBOB)");
    const record = await runner.record(run.run_id);
    expect(record.status).toBe("awaiting_approval");
    expect(record.approvals[0]!.refused).toMatchObject([{ by: "slack:UMALLORY", decision: "approve" }]);
  });

  it("says why when approving twice, after a deny, after a cancel, or when nothing waits", async () => {
    await ws.addSop("gated", `description = "x"\n[approval]\nmin_approvals = 2`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    runner = await ws.runner();
    expect((await refusal(runner.approve("gated"))).code).toBe("nothing_waiting");
    expect((await refusal(runner.approve("nope"))).code).toBe("unknown_sop");
    const run = await runner.execute("gated");
    await runner.approve("gated", { actor: "slack:U1" });
    expect((await refusal(runner.approve("gated", { actor: "slack:U1" }))).code).toBe("duplicate");
    await runner.deny("gated", { actor: "slack:U2", reason: "bad idea" });
    expect((await runner.record(run.run_id)).status).toBe("denied");
    expect((await refusal(runner.approve("gated", { runId: run.run_id, actor: "slack:U3" }))).code).toBe("finished");
    const other = await runner.execute("gated");
    await runner.cancel(other.run_id);
    const late = await refusal(runner.approve("gated", { runId: other.run_id }));
    expect(late.message).toContain("already ended (cancelled)");
    expect((await refusal(runner.approve("gated", { runId: "no-such-run" }))).code).toBe("unknown_run");
  });

  it("lets only admins skip approvals, and records every passed gate as bypassed", async () => {
    await ws.addExample("deploy-production");
    runner = await ws.runner({ admins: ["api:root"] });
    expect((await refusal(runner.execute("deploy-production", { skipApproval: true, actor: "api:alice" }))).code).toBe("not_allowed");
    const record = await runner.execute("deploy-production", { skipApproval: true, actor: "api:root" });
    expect(record.status).toBe("success");
    expect(record.approvals.map((a) => [a.gate, a.decision, a.by])).toEqual([["step:3", "bypassed", ["api:root"]], ["step:5", "bypassed", ["api:root"]]]);
    expect(record.bypassed_by).toBe("api:root");
  });

  it("redacts secret values and secret-named variables everywhere in the audit", async () => {
    await ws.addSop("secretive", `description = "x"\nexecution_mode = "automatic"\n[secrets]\nnames = ["DEPLOY_TOKEN"]`,
      steps('**Leak**\n```sh\necho "token is $DEPLOY_TOKEN"\necho "api_key=$DEPLOY_TOKEN" >> "$SOP_OUTPUT"\n```'));
    runner = await ws.runner({ env: ws.env({ DEPLOY_TOKEN: "s3cr3t-value" }) });
    const record = await runner.execute("secretive", { vars: { db_password: "hunter2" } });
    expect(record.steps[0]!.output).toBe("token is ***\n");
    expect(record.vars).toMatchObject({ db_password: "***", api_key: "***" });
    const [file] = await ws.auditFiles("secretive");
    expect(JSON.stringify(file)).not.toContain("s3cr3t-value");
    expect(JSON.stringify(file)).not.toContain("hunter2");
  });

  it("fails a step whose declared secret is missing from the environment, saying which", async () => {
    await ws.addSop("needs-secret", `description = "x"\nexecution_mode = "automatic"\n[secrets]\nnames = ["MISSING_TOKEN"]`, steps("**Use**\n```sh\ntrue\n```"));
    runner = await ws.runner();
    const record = await runner.execute("needs-secret");
    expect(record.status).toBe("failed");
    expect(record.steps[0]!.reason).toBe("secret MISSING_TOKEN is not set in the bot's environment ([secrets] of needs-secret)");
  });

  it("finishes the run when LOGS_DIR cannot be written, and logs a clear error", async () => {
    await ws.addSop("quick", `description = "x"\nexecution_mode = "automatic"`, steps("**Note**"));
    const blocker = join(ws.root, "not-a-dir");
    await writeFile(blocker, "");
    const errors: string[] = [];
    const log = { info() {}, warn() {}, debug() {}, error: (_o: object, msg?: string) => void errors.push(msg ?? "") };
    runner = await ws.runner({ logsDir: join(blocker, "logs"), log });
    const record = await runner.execute("quick");
    expect(record.status).toBe("success");
    await until("the error to be logged", () => errors.length > 0);
    expect(errors[0]).toMatch(/^audit: cannot write audit file .*not-a-dir\/logs\/sop\/quick\/.*\.json: ENOTDIR/);
    expect(errors[0]).toContain("the run goes on and the write is retried");
  });

  it("announces a run's end only once its final audit file is on disk, after LOGS_DIR comes back", async () => {
    await ws.addSop("quick", `description = "x"\nexecution_mode = "automatic"`, steps("**Note**"));
    const blocker = join(ws.root, "not-a-dir");
    await writeFile(blocker, "");
    const folder = join(blocker, "logs", "sop", "quick");
    const errors: string[] = [];
    const log = { info() {}, warn() {}, debug() {}, error: (_o: object, msg?: string) => void errors.push(msg ?? "") };
    const clock = new TestClock();
    runner = await ws.runner({ logsDir: join(blocker, "logs"), log, clock });
    // For each run_finished heard: whether the run's final file was there to read at that moment.
    const fileThere: boolean[] = [];
    runner.events.subscribe((e) => {
      if (e.type === "run_finished") fileThere.push(existsSync(folder) && readdirSync(folder).some((n) => n.endsWith(".json") && !n.startsWith(".")));
    });
    const run = await runner.execute("quick", { wait: false });
    await until("the run to be sealed", async () => (await runner!.run(run.run_id))?.seal !== undefined);
    await until("the failed write", () => errors.length > 0);
    expect(fileThere).toEqual([]);

    // LOGS_DIR comes back: the retry (on the clock) writes the final record, and only then is the end told.
    await rm(blocker);
    await clock.advance(2_000);
    await until("the end to be told", () => fileThere.length > 0);
    expect(fileThere).toEqual([true]);
  });

  it("reports a corrupt state file in DATA_DIR and keeps every other run", async () => {
    await ws.addExample("deploy-production");
    runner = await ws.runner();
    const waiting = await runner.execute("deploy-production");
    await runner.close();
    await writeFile(join(ws.dataDir, "runs", "bad-run.json"), "{ not json");
    const problems: string[] = [];
    const log = { info() {}, warn() {}, debug() {}, error: (_o: object, msg?: string) => void problems.push(msg ?? "") };
    runner = await ws.runner({ log });
    expect(problems.join("\n")).toContain("bad-run.json: cannot read run state");
    expect((await runner.getStatus("deploy-production")).active.map((r) => r.id)).toEqual([waiting.run_id]);
  });

  it("starts every SOP whose command trigger matches, with named and numbered captures", async () => {
    await ws.addSop("deployer", `description = "x"\nexecution_mode = "automatic"\n[[triggers]]\ntype = "command"\npattern = "^deploy:(?<version>\\\\S+) to (\\\\w+)$"\ncapture_groups = true`,
      steps('**Echo**\n```sh\necho "$SOP_VAR_VERSION $SOP_VAR_MATCH_1"\n```'));
    runner = await ws.runner();
    expect(await runner.trigger("nothing here")).toEqual([]);
    const [result] = await runner.trigger("deploy:1.2.3 to staging", { source: "slack:C1", wait: true });
    expect(result!.record).toMatchObject({ status: "success", trigger: { type: "command", source: "slack:C1", text: "deploy:1.2.3 to staging" }, vars: { version: "1.2.3", match_1: "staging" } });
    expect(result!.record!.steps[0]!.output).toBe("1.2.3 staging\n");
  });

  it("reports metrics: runs, success rate and duration percentiles", async () => {
    await ws.addSop("flip", `description = "x"\nexecution_mode = "automatic"`, steps('**Maybe**\n```sh\n[ "$SOP_VAR_OK" = yes ]\n```'));
    runner = await ws.runner();
    await runner.execute("flip", { vars: { ok: "yes" } });
    await runner.execute("flip", { vars: { ok: "no" } });
    await runner.execute("flip", { vars: { ok: "yes" } });
    const { metrics, last } = await runner.getStatus("flip");
    expect(metrics.runs).toBe(3);
    expect(metrics.success_rate).toBeCloseTo(2 / 3);
    expect(metrics.duration_p50_ms).toBeGreaterThanOrEqual(0);
    expect(last?.status).toBe("success");
  });
});

describe("admission under load", () => {
  it("starts every run that fits max_concurrent even when they arrive at the same moment and wait for people", async () => {
    await ws.addSop("parallel", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 10`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    runner = await ws.runner();
    const runs = await Promise.all(Array.from({ length: 25 }, () => runner!.execute("parallel", { wait: false })));
    const statuses = await until("ten runs to wait and fifteen to queue", async () => {
      const all = await Promise.all(runs.map(async (r) => (await runner!.run(r.run_id))!.run.status));
      const waiting = all.filter((s) => s === "awaiting_approval").length;
      return waiting === 10 ? all : undefined;
    });
    expect(statuses.filter((s) => s === "queued")).toHaveLength(15);
  });
});
