/** A plan says when it cannot know: a decision resting on a variable an earlier step may set. */
import { describe, expect, it } from "vitest";
import { planRun } from "../../src/core/plan/plan-run.ts";
import { definition, step } from "../helpers/definitions.ts";

const noCommand = { commands: [] };

describe("plan certainty", () => {
  it("marks a skip unsure when an earlier step with a command may set the variable it reads", () => {
    const plan = planRun(definition([step(1, "Check"), step(2, "Deploy", { if: "staging_ok" })]), {});
    expect(plan.steps[1]).toMatchObject({ decision: "skip", certain: false, reason: "skips unless an earlier step sets staging_ok (staging_ok is unset)" });
    expect(plan.steps[0]!.certain).toBe(true);
  });

  it("marks a run unsure when a variable it reads as unset could be set before it", () => {
    const plan = planRun(definition([step(1, "Check"), step(2, "Proceed", { if: "!blocked" })]), {});
    expect(plan.steps[1]).toMatchObject({ decision: "run", certain: false });
    expect(plan.steps[1]!.reason).toMatch(/; skips instead if an earlier step sets blocked$/);
  });

  it("is sure when the variable is given, when no earlier step runs a command, or when it reads only built-ins", () => {
    const given = planRun(definition([step(1, "Check"), step(2, "Deploy", { if: "staging_ok" })]), { staging_ok: "yes" });
    expect(given.steps[1]).toMatchObject({ decision: "run", certain: true });
    const notes = planRun(definition([step(1, "Read", noCommand), step(2, "Deploy", { if: "staging_ok" })]), {});
    expect(notes.steps[1]).toMatchObject({ decision: "skip", certain: true, reason: "skipped: staging_ok is unset" });
    const skippedSetter = planRun(definition([step(1, "Check", { if: "never" }), step(2, "Deploy", { if: "staging_ok" })]), {});
    expect(skippedSetter.steps[1]!.certain).toBe(true);
    const builtins = planRun(definition([step(1, "Check"), step(2, "Roll Back", { if: 'previous_step == "failed"' })]), {});
    expect(builtins.steps[1]!.certain).toBe(true);
  });
});
