/** What the state machine keeps so that a run survives its worker: where commands run, and what recovery found. */
import { describe, expect, it } from "vitest";
import { auditRecord } from "../../src/core/audit/audit-record.ts";
import { nextDeadline, pendingTimers } from "../../src/core/run/apply-event.ts";
import { RUN_TIMEOUT } from "../../src/core/run/effects.ts";
import { definition, step } from "../helpers/definitions.ts";
import { Play, bob, carol } from "../helpers/play-run.ts";

const where = { host: "worker-a", machine: "boot/pid:[1]", pgid: 4321, startTicks: "99", commandIndex: 0, attempt: 0 };

describe("where a command runs", () => {
  it("records the process of the command that runs now, and forgets it when the command ends", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B")]));
    p.apply({ type: "start" });
    const started = p.apply({ type: "command_started", target: { kind: "step", step: 1 }, commandIndex: 0, attempt: 0, process: where });
    expect(started.changed).toBe(true);
    expect(started.effects).toEqual([]);
    expect(p.run.steps[0]!.process).toEqual(where);
    p.finish();
    expect(p.run.steps[0]!.process).toBeUndefined();
  });

  it("ignores the start of a command of an earlier attempt or of a step that no longer runs", () => {
    const p = new Play(definition([step(1, "A", { retries: 1 })]));
    p.apply({ type: "start" });
    p.finish({ exitCode: 1 });
    expect(p.apply({ type: "command_started", target: { kind: "step", step: 1 }, commandIndex: 0, attempt: 0, process: where }).changed).toBe(false);
    expect(p.apply({ type: "command_started", target: { kind: "step", step: 2 }, commandIndex: 0, attempt: 0, process: where }).changed).toBe(false);
  });
});

describe("recovery says what became of the orphaned command", () => {
  it("fails the interrupted step with the reason 'interrupted' and the command's fate in its output", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B")]));
    p.apply({ type: "start" });
    p.started();
    p.apply({ type: "recover", fates: { "step:1": "it may still be running: process group 4321 on worker-a" } });
    expect(p.run.steps[0]).toMatchObject({ status: "failed", reason: "interrupted" });
    expect(p.run.steps[0]!.output).toContain("--- interrupted (it may still be running: process group 4321 on worker-a) ---");
    expect(p.run.steps[0]!.process).toBeUndefined();
  });

  it("names the fate beside the retry when the step runs again", () => {
    const p = new Play(definition([step(1, "A", { retries: 2 })]));
    p.apply({ type: "start" });
    p.started();
    p.apply({ type: "recover", fates: { "step:1": "its process group 4321 on worker-a was stopped" } });
    expect(p.run.steps[0]!.output).toContain("--- interrupted; retry 1 of 2 (its process group 4321 on worker-a was stopped) ---");
    expect(p.pendingCommand()).toMatchObject({ attempt: 1 });
  });

  it("runs a command with no process on record, which never began, with no retry spent and nothing failed", () => {
    const p = new Play(definition([step(1, "A"), step(2, "B", { retries: 1 })]));
    p.apply({ type: "start" });
    p.apply({ type: "recover" });
    expect(p.run.steps[0]).toMatchObject({ status: "running", attempt: 0, output: "" });
    expect(p.pendingCommand()).toMatchObject({ target: { kind: "step", step: 1 }, attempt: 0 });
    p.finish();
    p.apply({ type: "recover" });
    expect(p.pendingCommand()).toMatchObject({ target: { kind: "step", step: 2 }, attempt: 0 });
    p.runToRest();
    expect(p.run.status).toBe("success");
  });
});

describe("timers a run needs", () => {
  it("keeps when the run times out, and the earliest deadline of all", () => {
    const def = definition([step(1, "Deploy", { requiresApproval: true })], {
      timeoutSecs: 3600,
      approval: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 60, onTimeout: "deny" },
    });
    const p = new Play(def).runToRest();
    expect(p.run.timeoutAt).toBe(p.run.startedAt! + 3_600_000);
    expect(nextDeadline(p.run)).toBe(p.run.checkpoints[0]!.deadline);
    p.approve(bob);
    expect(nextDeadline(p.run)).toBe(p.run.timeoutAt);
    p.runToRest();
    expect(nextDeadline(p.run)).toBeUndefined();
  });

  it("lists the pending checkpoints' deadlines and the run timeout, and none once the run ended", () => {
    const def = definition([step(1, "Deploy", { requiresApproval: true })], {
      timeoutSecs: 3600,
      approval: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 60, onTimeout: "deny" },
    });
    const p = new Play(def).runToRest();
    expect(pendingTimers(def, p.run)).toEqual([
      { checkpoint: "step:1", at: p.run.checkpoints[0]!.deadline },
      { checkpoint: RUN_TIMEOUT, at: p.run.startedAt! + 3_600_000 },
    ]);
    p.deny(bob);
    expect(pendingTimers(def, p.run)).toEqual([]);
  });
});

describe("the audit record", () => {
  it("keeps every approver's comment when min_approvals needs several people", () => {
    const def = definition([step(1, "Deploy", { requiresApproval: true })], {
      approval: { approvers: [], minApprovals: 2, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" },
    });
    const p = new Play(def).runToRest();
    p.apply({ type: "decide", actor: bob, decision: "approve", comment: "diff looks right" });
    p.apply({ type: "decide", actor: carol, decision: "approve", comment: "staging is green" });
    const approval = auditRecord(def, p.run, (t) => t).approvals[0]!;
    expect(approval.comments.map((c) => [c.by, c.text])).toEqual([["slack:UBOB", "diff looks right"], ["discord:3", "staging is green"]]);
    expect(approval.comment).toBe("slack:UBOB: diff looks right\ndiscord:3: staging is green");
  });

  it("keeps who approved when a deny then ends a gate that needed several people", () => {
    const def = definition([step(1, "Deploy", { requiresApproval: true })], {
      approval: { approvers: [], minApprovals: 2, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" },
    });
    const p = new Play(def).runToRest();
    p.approve(bob);
    p.deny(carol, "not now");
    const approval = auditRecord(def, p.run, (t) => t).approvals[0]!;
    expect(approval).toMatchObject({ decision: "denied", by: ["discord:3"], approved_by: ["slack:UBOB"] });
  });

  it("gives every step a duration, 0 for a step that never ran", () => {
    const def = definition([step(1, "A"), step(2, "B", { if: "never" })]);
    const p = new Play(def).runToRest();
    const steps = auditRecord(def, p.run, (t) => t).steps;
    expect(steps.map((s) => [s.status, typeof s.duration_ms])).toEqual([["success", "number"], ["skipped", "number"]]);
    expect(steps[1]!.duration_ms).toBe(0);
  });

  it("never puts the value of a secret-named variable in a step's reason", () => {
    const def = definition([step(1, "A", { if: 'api_key == "s3cr3t-value"' }), step(2, "B", { if: "db_password" })]);
    const p = new Play(def, { vars: { api_key: "s3cr3t-value", db_password: "hunter2-long" } }).runToRest();
    expect(JSON.stringify(p.run)).not.toMatch(/reason":"[^"]*(s3cr3t-value|hunter2-long)/);
    expect(p.run.steps.map((s) => s.reason)).toEqual(['api_key is "***"', 'db_password is "***"']);
  });
});
