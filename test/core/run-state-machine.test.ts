import { describe, expect, it } from "vitest";
import { RUN_TIMEOUT } from "../../src/core/run/effects.ts";
import { definition, step } from "../helpers/definitions.ts";
import { Play, admin, alice, bob, carol } from "../helpers/play-run.ts";

const seedDeploy = () => definition([
  step(1, "Run Tests"),
  step(2, "Build Release", { if: "tests_pass" }),
  step(3, "Deploy to Staging", { requiresApproval: true }),
  step(4, "Verify Staging", { if: "staging_ok" }),
  step(5, "Deploy to Production", { if: "staging_verified", requiresApproval: true }),
], { name: "deploy-production", executionMode: "supervised", priority: "high" });

describe("running steps", () => {
  it("runs every step of an automatic SOP in order and succeeds", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B"), step(3, "Note", { commands: [] })])).runToRest();
    expect(p.run.status).toBe("success");
    expect(p.statuses()).toEqual(["success", "success", "success"]);
    expect(p.events()).toContain("run_finished=success");
  });

  it("skips a step whose condition is false, with the reason", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B", { if: "tests_pass" })])).runToRest();
    expect(p.run.steps[1]).toMatchObject({ status: "skipped", reason: "tests_pass is unset" });
    expect(p.run.status).toBe("success");
  });

  it("lets step output set variables that later conditions read", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B", { if: "ready == \"yes\"" })]));
    p.apply({ type: "start" });
    p.finish({}, { ready: "yes" });
    p.runToRest();
    expect(p.statuses()).toEqual(["success", "success"]);
  });

  it("runs a step's commands one after another and fails at the first that fails", () => {
    const p = new Play(definition([step(1, "A", { commands: ["true", "false", "echo never"] }), step(2, "B")]));
    p.apply({ type: "start" });
    p.finish();
    expect(p.pendingCommand()).toMatchObject({ command: "false", commandIndex: 1 });
    p.finish({ exitCode: 1, output: "boom\n" });
    expect(p.run.steps[0]).toMatchObject({ status: "failed", reason: "exit code 1", exitCode: 1 });
    expect(p.run.steps[1]!.status).toBe("skipped");
    expect(p.run.status).toBe("failed");
  });

  it("after a failure skips later steps but runs a rollback step that names previous_step", () => {
    const p = new Play(definition([
      step(1, "Deploy"), step(2, "Smoke Test"),
      step(3, "Roll Back", { if: "previous_step == \"failed\"" }), step(4, "Announce"),
    ]));
    p.apply({ type: "start" });
    p.finish();
    p.finish({ exitCode: 2 });
    p.runToRest();
    expect(p.statuses()).toEqual(["success", "failed", "success", "skipped"]);
    expect(p.run.steps[3]!.reason).toBe('step 2 "Smoke Test" failed');
    expect(p.run.status).toBe("failed");
  });

  it("runs always steps after a failure and records continue_on_error failures without failing the run", () => {
    const p = new Play(definition([step(1, "Flaky", { continueOnError: true }), step(2, "B"), step(3, "Fail"), step(4, "Cleanup", { always: true })]));
    p.apply({ type: "start" });
    p.finish({ exitCode: 1 });
    p.finish();
    p.finish({ exitCode: 1 });
    p.runToRest();
    expect(p.statuses()).toEqual(["failed", "success", "failed", "success"]);
    expect(p.run.status).toBe("failed");
  });

  it("re-runs a failed command up to retries times", () => {
    const p = new Play(definition([step(1, "A", { retries: 2 })]));
    p.apply({ type: "start" });
    p.finish({ exitCode: 1 });
    expect(p.pendingCommand()).toMatchObject({ attempt: 1 });
    p.finish({ exitCode: 1 });
    p.finish();
    expect(p.run.status).toBe("success");
    expect(p.run.steps[0]!.output).toContain("retry 2 of 2");
  });

  it("reports a timed-out step with its timeout", () => {
    const p = new Play(definition([step(1, "Slow", { timeoutSecs: 30 })]));
    p.apply({ type: "start" });
    expect(p.pendingCommand()!.timeoutMs).toBe(30_000);
    p.finish({ exitCode: null, timedOut: true });
    expect(p.run.steps[0]!.reason).toBe("timed out after 30 s");
  });

  it("ignores a command result delivered twice", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B")]));
    p.apply({ type: "start" });
    const first = p.pendingCommand()!;
    p.finish();
    const again = p.apply({
      type: "command_finished", target: first.target, commandIndex: 0, attempt: 0, outputVars: {},
      result: { exitCode: 1, output: "", timedOut: false, cancelled: false, durationMs: 1 },
    });
    expect(again.changed).toBe(false);
    expect(p.run.steps[0]!.status).toBe("success");
  });
});

describe("execution modes", () => {
  it("supervised deploy-production waits twice and records two approval waits", () => {
    const p = new Play(seedDeploy(), { vars: {} }).runToRest();
    expect(p.run.status).toBe("awaiting_approval");
    expect(p.run.checkpoints.map((c) => c.id)).toEqual(["step:3"]);
    p.approve();
    p.finish({}, { staging_ok: "true" });
    p.finish({}, { staging_verified: "true" });
    expect(p.run.status).toBe("awaiting_approval");
    p.approve();
    p.runToRest();
    expect(p.run.status).toBe("success");
    expect(p.run.checkpoints.filter((c) => c.status === "approved")).toHaveLength(2);
    expect(p.statuses()).toEqual(["success", "skipped", "success", "success", "success"]);
  });

  it("supervised with no named approval waits once before the first step", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B")], { executionMode: "supervised" })).runToRest();
    expect(p.run.checkpoints).toMatchObject([{ id: "run", status: "pending" }]);
    expect(p.run.steps[0]!.status).toBe("awaiting_approval");
    p.approve();
    p.runToRest();
    expect(p.run.status).toBe("success");
    expect(p.run.checkpoints).toHaveLength(1);
  });

  it("step_by_step asks before every step that will run, not before skipped or manual ones", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B", { if: "nope" }), step(3, "C"), step(4, "Check", { manual: true, commands: [] })], { executionMode: "step_by_step" })).runToRest();
    p.approve();
    p.runToRest();
    p.approve();
    p.runToRest();
    expect(p.run.checkpoints.map((c) => c.id)).toEqual(["step:1", "step:3", "manual:4"]);
  });

  it("priority_based treats critical as step_by_step and low as supervised", () => {
    const steps = [step(1, "A"), step(2, "B")];
    const critical = new Play(definition(steps, { executionMode: "priority_based", priority: "critical" })).runToRest();
    expect(critical.run.checkpoints[0]!.id).toBe("step:1");
    const low = new Play(definition(steps, { executionMode: "priority_based", priority: "low" })).runToRest();
    expect(low.run.checkpoints[0]!.id).toBe("run");
  });

  it("skipApproval bypasses every approval and manual step and records who", () => {
    const p = new Play(seedDeploy(), { vars: { tests_pass: true, staging_ok: true, staging_verified: true }, bypassedBy: admin.id }).runToRest();
    expect(p.run.status).toBe("success");
    expect(p.run.checkpoints.map((c) => [c.id, c.status, c.by])).toEqual([["step:3", "bypassed", ["api:root"]], ["step:5", "bypassed", ["api:root"]]]);
  });
});

describe("approvals", () => {
  const gated = (policy = {}) => definition([step(1, "Deploy", { requiresApproval: true })], { approval: { approvers: ["slack-group:SOPS", "discord:3"], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny", ...policy } });

  it("refuses someone who is not an approver and records the attempt", () => {
    const p = new Play(gated()).runToRest();
    const r = p.approve(alice);
    expect(r.outcome).toMatchObject({ ok: false, code: "not_allowed" });
    expect(r.outcome!.message).toContain("slack:UALICE is not an approver of step:1");
    expect(p.run.checkpoints[0]!.refused).toMatchObject([{ by: "slack:UALICE", decision: "approve" }]);
    expect(p.run.status).toBe("awaiting_approval");
  });

  it("accepts a member of an approver group", () => {
    const p = new Play(gated()).runToRest();
    expect(p.approve(bob).outcome).toMatchObject({ ok: true });
    p.runToRest();
    expect(p.run.status).toBe("success");
  });

  it("with min_approvals = 2 resumes only after two distinct people approve", () => {
    const p = new Play(gated({ minApprovals: 2 })).runToRest();
    expect(p.approve(bob).outcome!.message).toContain("1 of 2");
    expect(p.approve(bob).outcome).toMatchObject({ ok: false, code: "duplicate" });
    expect(p.run.status).toBe("awaiting_approval");
    p.approve(carol);
    expect(p.run.checkpoints[0]).toMatchObject({ status: "approved", by: ["slack:UBOB", "discord:3"] });
    expect(p.pendingCommand()).toBeDefined();
  });

  it("one deny ends the run as denied", () => {
    const p = new Play(gated({ minApprovals: 2 })).runToRest();
    p.approve(bob);
    p.deny(carol, "not today");
    expect(p.run.status).toBe("denied");
    expect(p.run.endReason).toBe("denied by discord:3: not today");
    expect(p.run.steps[0]!.status).toBe("skipped");
    expect(p.effects.some((e) => e.type === "finished")).toBe(true);
  });

  it("refuses self-approval when the SOP forbids it, but lets the requester deny", () => {
    const p = new Play(gated({ allowSelfApproval: false, approvers: [] }), { requestedBy: bob.id }).runToRest();
    expect(p.approve(bob).outcome).toMatchObject({ ok: false, code: "self_approval" });
    expect(p.deny(bob).outcome).toMatchObject({ ok: true });
  });

  it("changes nothing for a decision after the run ended, on a decided gate, or from another version", () => {
    const p = new Play(gated()).runToRest();
    expect(p.apply({ type: "decide", actor: bob, decision: "approve", definitionHash: "other" }).outcome).toMatchObject({ code: "stale" });
    p.approve(bob);
    expect(p.approve(carol, "step:1").outcome).toMatchObject({ code: "already_decided" });
    p.runToRest();
    const late = p.approve(carol);
    expect(late.outcome).toMatchObject({ ok: false, code: "finished" });
    expect(late.changed).toBe(false);
  });

  it("an approval timeout denies by default and ends the run timed out", () => {
    const p = new Play(gated({ timeoutSecs: 60 })).runToRest();
    const schedule = p.effects.find((e) => e.type === "schedule_timeout");
    expect(schedule).toMatchObject({ checkpoint: "step:1" });
    expect(p.apply({ type: "timeout", checkpoint: "step:1" }).changed).toBe(false); // too early
    p.now += 60_000;
    p.apply({ type: "timeout", checkpoint: "step:1" });
    expect(p.run.status).toBe("timed_out");
    expect(p.run.checkpoints[0]!.status).toBe("timed_out");
  });

  it("on_timeout = approve lets the run go on", () => {
    const p = new Play(gated({ timeoutSecs: 60, onTimeout: "approve" })).runToRest();
    p.now += 61_000;
    p.apply({ type: "timeout", checkpoint: "step:1" });
    p.runToRest();
    expect(p.run.status).toBe("success");
    expect(p.run.checkpoints[0]!.by).toEqual(["timeout"]);
  });

  it("counts no decision made after its gate's deadline: the timeout decides, though its timer has not fired", () => {
    const p = new Play(gated({ timeoutSecs: 60 })).runToRest();
    p.now += 60_000;
    const late = p.approve(bob);
    expect(late.outcome).toMatchObject({ ok: false, code: "already_decided" });
    expect(late.outcome?.message).toMatch(/^step:1 of run .* passed its deadline \(.*\) before this decision and was timed out; nothing else changed$/);
    expect(p.run.status).toBe("timed_out");
    expect(p.run.checkpoints[0]).toMatchObject({ status: "timed_out", by: [] });

    const lenient = new Play(gated({ timeoutSecs: 60, onTimeout: "approve" })).runToRest();
    lenient.now += 60_000;
    expect(lenient.deny(bob).outcome?.message).toMatch(/was approved automatically \(on_timeout = "approve"\)/);
    lenient.runToRest();
    expect(lenient.run.status).toBe("success");
    expect(lenient.run.checkpoints[0]!.by).toEqual(["timeout"]);
  });

  it("counts no decision made after the run's own timeout", () => {
    const p = new Play(definition([step(1, "Deploy", { requiresApproval: true })], { timeoutSecs: 30 })).runToRest();
    p.now += 30_000;
    const late = p.approve(bob);
    expect(late.outcome).toMatchObject({ ok: false, code: "finished" });
    expect(late.outcome?.message).toMatch(/timed out at .* \(timeout_secs = 30\), before this decision; nothing to decide$/);
    expect(p.run.status).toBe("timed_out");
  });

  it("a click racing a timeout produces exactly one decision", () => {
    const p = new Play(gated({ timeoutSecs: 60 })).runToRest();
    p.now += 61_000;
    p.apply({ type: "timeout", checkpoint: "step:1" });
    expect(p.approve(bob).outcome).toMatchObject({ ok: false, code: "finished" });
  });
});

describe("manual steps, gates, cancel and recovery", () => {
  it("a manual step waits for Done, and Failed follows the failure rules", () => {
    const def = definition([step(1, "Check Dashboards", { manual: true, commands: [] }), step(2, "Next"), step(3, "Roll Back", { if: "previous_step == \"failed\"" })]);
    const done = new Play(def).runToRest();
    expect(done.run.status).toBe("awaiting_manual");
    done.approve(bob);
    done.runToRest();
    expect(done.statuses()).toEqual(["success", "success", "skipped"]);
    const failed = new Play(def).runToRest();
    failed.deny(bob, "graphs are red");
    failed.runToRest();
    expect(failed.statuses()).toEqual(["failed", "skipped", "skipped"]);
    expect(failed.run.steps[0]!.reason).toBe("marked failed by slack:UBOB: graphs are red");
  });

  it("runs pre_ approval and post_ verification gates around their step", () => {
    const def = definition([step(1, "Snapshot"), step(2, "Apply Patch"), step(3, "Roll Back", { always: true, if: "!patch_verified" })], {
      gates: [
        { name: "pre_apply_patch", type: "approval", required: true, policy: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" }, attach: { when: "pre", step: 2 } },
        { name: "post_apply_patch", type: "verification", command: "npm audit", attach: { when: "post", step: 2 } },
      ],
    });
    const p = new Play(def).runToRest();
    expect(p.run.checkpoints[0]).toMatchObject({ id: "gate:pre_apply_patch", step: 2 });
    p.approve(bob);
    p.finish();
    expect(p.pendingCommand()).toMatchObject({ target: { kind: "gate", gate: "post_apply_patch" }, command: "npm audit" });
    p.finish({ exitCode: 1 });
    p.runToRest();
    expect(p.run.verifications[0]!.status).toBe("failed");
    expect(p.statuses()).toEqual(["success", "success", "success"]);
    expect(p.run.status).toBe("failed");
    expect(p.run.endReason).toBe("gate post_apply_patch failed");
  });

  it("an approval gate with required = false notifies and does not wait", () => {
    const def = definition([step(1, "A")], { gates: [{ name: "pre_run", type: "approval", required: false, policy: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" }, attach: { when: "pre_run" } }] });
    const p = new Play(def).runToRest();
    expect(p.run.status).toBe("success");
    expect(p.run.checkpoints[0]!.status).toBe("notified");
  });

  it("cancel kills the running command and cancels what is left", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B")]));
    p.apply({ type: "start" });
    p.apply({ type: "cancel", actor: bob });
    expect(p.last.effects.map((e) => e.type)).toContain("kill_command");
    expect(p.statuses()).toEqual(["cancelled", "cancelled"]);
    expect(p.run.status).toBe("cancelled");
  });

  it("the run timeout stops a run that takes too long", () => {
    const p = new Play(definition([step(1, "A")], { timeoutSecs: 10 }));
    p.apply({ type: "start" });
    expect(p.effects).toContainEqual({ type: "schedule_timeout", checkpoint: RUN_TIMEOUT, at: p.now + 10_000 });
    p.now += 10_000;
    p.apply({ type: "timeout", checkpoint: RUN_TIMEOUT });
    expect(p.run.status).toBe("timed_out");
  });

  it("recovery fails an interrupted step, or re-runs it when it has retries; completed steps stay", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B"), step(3, "C", { retries: 1 })]));
    p.apply({ type: "start" });
    p.finish();
    p.started();
    p.apply({ type: "recover" });
    expect(p.run.steps[1]).toMatchObject({ status: "failed", reason: "interrupted" });
    expect(p.run.steps[0]!.status).toBe("success");
    const q = new Play(definition([step(1, "A", { retries: 1 })]));
    q.apply({ type: "start" });
    q.started();
    q.apply({ type: "recover" });
    expect(q.pendingCommand()).toMatchObject({ attempt: 1 });
    q.finish();
    expect(q.run.status).toBe("success");
  });
});
