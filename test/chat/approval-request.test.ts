/** What a request says it lets run: the steps up to the next wait, their commands, the variables, the version, and the change. */
import { describe, expect, it } from "vitest";
import { approvalRequest, thenText, type ApprovalRequest } from "../../src/chat/approval-request.ts";
import type { DefinitionChange } from "../../src/chat/definition-change.ts";
import { checkpointMessage } from "../../src/chat/run-messages.ts";
import { auditRecord } from "../../src/core/audit/audit-record.ts";
import type { SopDefinition, VarValue } from "../../src/core/sop/types.ts";
import { definition, step } from "../helpers/definitions.ts";
import { Play } from "../helpers/play-run.ts";

const ctx = { runUrl: (id: string) => `http://bot.test/runs/${id}` };

/** The run driven until it waits, as the store and the redacted record would show it. */
function waiting(def: SopDefinition, vars: Record<string, VarValue> = {}) {
  const play = new Play(def, { vars }).runToRest();
  const stored = { run: play.run, definition: def, dir: "/sops/test-sop" };
  const record = auditRecord(def, play.run, (t) => t);
  const cp = play.run.checkpoints.find((c) => c.status === "pending")!;
  return { play, stored, record, cp, request: approvalRequest({ stored, record }, cp) };
}

const shape = (r: ApprovalRequest) => ({
  next: r.next.map((i) => (i.kind === "gate" ? `gate ${i.gate}: ${i.command}` : `${i.number} ${i.forecast}${i.note ? ` (${i.note})` : ""}: ${i.commands.join(" && ")}`)),
  then: thenText(r),
});

const messageText = (m: ReturnType<typeof checkpointMessage>) => [m.title, ...m.lines, ...m.fields.map((f) => `${f.label}: ${f.value}`)].join("\n");

describe("what an approval lets run", () => {
  it("is the step it guards and those after it, up to the next approval", () => {
    const { request } = waiting(definition([
      step(1, "Build"),
      step(2, "Ship", { requiresApproval: true, commands: ["deploy --to prod"], description: "Ships it." }),
      step(3, "Verify"),
      step(4, "Announce", { requiresApproval: true }),
      step(5, "Clean up"),
    ]));
    expect(request.where).toBe("before step 2 · Ship");
    expect(shape(request)).toEqual({
      next: ["2 runs: deploy --to prod", "3 runs: echo 3"],
      then: "Then the run waits for approval before step 4 · Announce (requires_approval).",
    });
    expect(request.next[0]).toMatchObject({ title: "Ship", description: "Ships it." });
  });

  it("goes to the end of the run when nothing waits after it", () => {
    const { request } = waiting(definition([step(1, "Ship", { requiresApproval: true }), step(2, "Tell")]));
    expect(shape(request)).toEqual({ next: ["1 runs: echo 1", "2 runs: echo 2"], then: "Then the run ends." });
  });

  it("includes verification gates and stops at an approval gate after a step", () => {
    const { request } = waiting(definition([step(1, "Patch", { requiresApproval: true }), step(2, "Reboot")], {
      gates: [
        { name: "post_patch", type: "verification", command: "npm audit", attach: { when: "post", step: 1 } },
        { name: "pre_reboot", type: "approval", required: true, policy: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" }, attach: { when: "pre", step: 2 } },
      ],
    }));
    expect(shape(request)).toEqual({
      next: ["1 runs: echo 1", "gate post_patch: npm audit"],
      then: "Then the run waits for approval at gate pre_reboot · before step 2 · Reboot.",
    });
  });

  it("for a gate before a step that asks its own approval too, lets nothing run yet and says so", () => {
    const { request } = waiting(definition([step(1, "Patch", { requiresApproval: true })], {
      gates: [{ name: "pre_patch", type: "approval", required: true, policy: { approvers: [], minApprovals: 1, allowSelfApproval: true, timeoutSecs: 0, onTimeout: "deny" }, attach: { when: "pre", step: 1 } }],
    }));
    expect(request.where).toBe("gate pre_patch · before step 1 · Patch");
    expect(shape(request)).toEqual({ next: [], then: "Then the run waits for approval before step 1 · Patch (requires_approval)." });
  });

  it("in step_by_step mode is one step at a time", () => {
    const { request } = waiting(definition([step(1, "A"), step(2, "B")], { executionMode: "step_by_step" }));
    expect(shape(request)).toEqual({ next: ["1 runs: echo 1"], then: "Then the run waits for approval before step 2 · B (step_by_step mode)." });
  });

  it("of a manual step is the step itself, then what runs when it is marked Done", () => {
    const { request } = waiting(definition([step(1, "Check the dashboard", { manual: true, commands: [], description: "Look at the error rate." }), step(2, "Report")]));
    expect(request.manual).toBe(true);
    expect(request.where).toBe("step 1 · Check the dashboard");
    expect(shape(request)).toEqual({ next: ["1 runs (the step to do, then mark it Done or Failed): ", "2 runs: echo 2"], then: "Then the run ends." });
  });

  it("forecasts conditions with the run's variables: skips what is false, and is unsure of what a step still to run may set", () => {
    const { request } = waiting(definition([
      step(1, "Ship", { requiresApproval: true }),
      step(2, "Staging only", { if: "env == \"staging\"" }),
      step(3, "Smoke", { if: "env == \"prod\"" }),
      step(4, "Verify", { if: "ship_ok" }),
      step(5, "Promote", { if: "verified", requiresApproval: true }),
    ]), { env: "prod" });
    expect(shape(request)).toEqual({
      next: [
        "1 runs: echo 1",
        "2 skipped (skipped: env is \"prod\", not \"staging\"): echo 2",
        "3 runs (runs: env is \"prod\"): echo 3",
        "4 unsure (runs only if an earlier step sets ship_ok): echo 4",
      ],
      then: "Then the run waits for approval before step 5 · Promote (requires_approval), if step 5 runs (it depends on verified).",
    });
  });
});

describe("the request in a channel", () => {
  const DEPLOY = definition([
    step(1, "Ship", { requiresApproval: true, description: "Deploys the release.", commands: ["deploy --token \"$SOP_VAR_API_TOKEN\"", Array.from({ length: 30 }, (_, i) => `echo line ${i}`).join("\n")] }),
    step(2, "Tell", { commands: ["notify ```evil``` fence"] }),
  ], { version: "2.1.0" });

  it("shows each step's number, title, description and commands as code, the redacted variables and the version", () => {
    const { stored, record, cp } = waiting(DEPLOY, { api_token: "s3cr3t-value-123", target: "eu-1" });
    const m = checkpointMessage({ stored, record }, cp, ctx);
    const text = messageText(m);
    expect(text).toContain([
      "*What runs after approval*",
      "*1. Ship*",
      "Deploys the release.",
      "```", "deploy --token \"$SOP_VAR_API_TOKEN\"", "```",
      "```", Array.from({ length: 12 }, (_, i) => `echo line ${i}`).join("\n"), "```",
      "… 18 more lines, see the run page",
      "*2. Tell*",
      "```", "notify '''evil''' fence", "```",
      "Then the run ends.",
    ].join("\n"));
    expect(m.fields).toContainEqual({ label: "Variables", value: "`api_token=***` `target=eu-1`" });
    expect(m.fields).toContainEqual({ label: "Version", value: "2.1.0 (definition h1)" });
    expect(m.link?.url).toBe("http://bot.test/runs/run-1");
    expect(text).not.toContain("s3cr3t-value-123");
  });

  it("shows the first steps that fit, and says how many more there are before the next wait", () => {
    const many = definition([step(1, "Go", { requiresApproval: true }), ...Array.from({ length: 20 }, (_, i) => step(i + 2, `Step ${i + 2}`, { commands: ["x".repeat(400)] }))]);
    const { stored, record, cp } = waiting(many);
    const text = messageText(checkpointMessage({ stored, record }, cp, ctx));
    expect(text).toMatch(/… 1[0-9] more steps before the next wait, see the run page\nThen the run ends\./);
  });

  it("puts what changed since the gate was last passed first, folded to ten changed lines", () => {
    const { stored, record, cp } = waiting(DEPLOY);
    const change: DefinitionChange = {
      since: { runId: "0badc0de-0000", version: "2.0.0", decision: "approved", decidedAt: Date.UTC(2026, 1, 25, 13, 0, 0) },
      version: "2.1.0", changed: 14, tooLarge: false,
      lines: [{ kind: "section", text: "step 1. Ship [requires_approval: true]" }, ...Array.from({ length: 7 }, (_, i) => [
        { kind: "remove" as const, text: `    old ${i}` }, { kind: "add" as const, text: `    new ${i}` }]).flat()],
    };
    const m = checkpointMessage({ stored, record, changes: new Map([["step:1", change]]) }, cp, ctx);
    expect(m.lines.slice(0, 16)).toEqual([
      "⏳ Waiting for a decision",
      "",
      "⚠️ The SOP changed since this gate was last approved: in run 0badc0de at 2026-02-25 13:00:00 UTC (version 2.0.0 then, 2.1.0 now).",
      "```",
      "@@ step 1. Ship [requires_approval: true]",
      "-     old 0", "+     new 0", "-     old 1", "+     new 1", "-     old 2", "+     new 2", "-     old 3", "+     new 3", "-     old 4", "+     new 4",
      "```",
    ]);
    expect(m.lines[16]).toBe("… 4 more changed lines, see the run page");
  });

  it("once decided, shows who decided and not what it let run", () => {
    const { play, stored } = waiting(DEPLOY);
    play.approve();
    const record = auditRecord(DEPLOY, play.run, (t) => t);
    const text = messageText(checkpointMessage({ stored: { ...stored, run: play.run }, record }, play.run.checkpoints[0]!, ctx));
    expect(text).toContain("✅ Approved by slack:UBOB");
    expect(text).not.toContain("What runs after approval");
  });
});
