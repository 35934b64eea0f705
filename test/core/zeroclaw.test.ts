import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/core/sop/parse-manifest.ts";
import { parseProcedure } from "../../src/core/sop/parse-procedure.ts";
import { parseSop } from "../../src/core/sop/parse-sop.ts";
import type { Diagnostic } from "../../src/core/sop/types.ts";

/** ZeroClaw SOPs (the format the seed derives from), one fixture per case, named after it. */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/zeroclaw/${name}`, import.meta.url), "utf8");
/** Diagnostics as `sop validate` prints them. */
const shown = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}: ${d.severity === "warning" ? "warning: " : ""}${d.message}`;
const procedure = (name: string) => {
  const { steps, diagnostics } = parseProcedure(fixture(name), `sops/z/${name}`);
  return { steps, shown: diagnostics.map(shown) };
};
const manifest = (name: string) => {
  const { manifest: parsed, diagnostics } = parseManifest(fixture(name), `sops/z/${name}`);
  return { manifest: parsed, shown: diagnostics.map(shown) };
};

describe("requires_confirmation in a step's attribute group", () => {
  const { steps, shown: diagnostics } = procedure("requires-confirmation-attribute.md");

  it("makes the step wait for approval, as the bullet form does, without a word", () => {
    expect(diagnostics).toEqual([]);
    expect(steps.map((s) => [s.title, s.requiresApproval, s.timeoutSecs])).toEqual([
      ["Drain traffic", true, 300],
      ["Restart", false, undefined],
    ]);
  });

  it("counts as requires_approval when the step sets that too", () => {
    const { diagnostics } = parseProcedure("## Steps\n1. **A** [requires_confirmation: true]\n   - requires_approval: true\n", "SOP.md");
    expect(diagnostics.map(shown)).toEqual([
      'SOP.md:3:6: attribute "requires_approval" is set twice (first at 2:11 as "requires_confirmation: true"); keep one',
    ]);
  });

  it("is refused when it is not true or false, by its own name", () => {
    const { diagnostics } = parseProcedure("## Steps\n1. **A** [requires_confirmation: yes]\n", "SOP.md");
    expect(diagnostics.map(shown)).toEqual(['SOP.md:2:34: requires_confirmation must be true or false, got "yes"']);
  });
});

describe("a kind: checkpoint bullet", () => {
  const { steps, shown: diagnostics } = procedure("kind-checkpoint-bullet.md");

  it("makes a manual step that waits for a person, and kind: execute leaves a step as it is", () => {
    expect(steps.map((s) => [s.title, s.manual, s.requiresApproval, s.metadata])).toEqual([
      ["Read pressure", false, false, {}],
      ["Operator review", true, false, {}],
      ["Close valve", true, false, {}],
      ["Approval gate", true, true, {}],
    ]);
  });

  it("warns that a checkpoint's commands will not run, naming the bullet to remove", () => {
    expect(diagnostics).toEqual([
      'sops/z/kind-checkpoint-bullet.md:15:6: warning: step 3 is manual, so its commands will not run; remove "kind: checkpoint" or the code blocks',
    ]);
  });

  it("clashes with a manual attribute as one key written twice", () => {
    const { diagnostics } = parseProcedure("## Steps\n1. **A** [manual: false]\n   - kind: checkpoint\n", "SOP.md");
    expect(diagnostics.map(shown)).toEqual(['SOP.md:3:6: attribute "manual" is set twice (here as "kind", first at 2:11); keep one']);
  });

  it("is an error without a value", () => {
    const { diagnostics } = parseProcedure("## Steps\n1. **A**\n   - kind:\n", "SOP.md");
    expect(diagnostics.map(shown)).toEqual(['SOP.md:3:6: attribute "kind" has no value; write "kind: checkpoint" for a step that waits for a person']);
  });
});

describe("bullets that have no effect in sop-runner", () => {
  const { steps, shown: diagnostics } = procedure("unused-bullet-keys.md");
  const file = "sops/z/unused-bullet-keys.md";
  const noEffect = (key: string) => `bullet "${key}" has no effect in sop-runner (it is kept as metadata)`;
  const ORDER = "steps run in list order: reorder them, and give a step [if: …] to skip it";

  it("each get a warning at the key, with what to write instead where there is an equivalent", () => {
    expect(diagnostics).toEqual([
      `${file}:6:6: warning: bullet "tools" (here and in step 3) has no effect in sop-runner (it is kept as metadata); sop-runner has no agent tools: a step runs the sh code blocks under it`,
      `${file}:7:6: warning: ${noEffect("output")}; a step hands values on by writing name=value lines to $SOP_OUTPUT`,
      `${file}:8:6: warning: ${noEffect("when")}; give the step it guards [if: …] instead`,
      `${file}:9:6: warning: ${noEffect("next")}; ${ORDER}`,
      `${file}:12:6: warning: ${noEffect("depends_on")}; ${ORDER}`,
      `${file}:13:6: warning: ${noEffect("on_failure")}; use [retries: 2] instead`,
      `${file}:14:6: warning: ${noEffect("policy")}; name the approvers in SOP.toml ([approval], or an approval gate pre_<step>) and mark the step [requires_approval: true]`,
      `${file}:15:6: warning: ${noEffect("mode")}; execution_mode in SOP.toml sets the mode of the whole SOP; for one step, use [requires_approval: true] or [manual: true]`,
      `${file}:18:6: warning: "kind: capability" has no effect in sop-runner (it is kept as metadata); a step runs the sh code blocks under it, and "kind: checkpoint" makes it a manual step`,
      `${file}:19:6: warning: ${noEffect("capability")}; a step runs the sh code blocks under it`,
      `${file}:20:6: warning: ${noEffect("on_failure")}; a failed step fails the run; retry it with [retries: N], go on with [continue_on_error: true], or add a rollback step with [if: previous_step == "failed"] or [always: true]`,
      `${file}:21:6: warning: ${noEffect("owner")}`,
      `${file}:22:6: warning: ${noEffect("timout")}; did you mean "timeout"?`,
    ]);
  });

  it("are kept as metadata and change nothing about how the steps run", () => {
    expect(steps.map((s) => Object.keys(s.metadata))).toEqual([
      ["tools", "output", "when", "next"],
      ["depends_on", "on_failure", "policy", "mode"],
      ["kind", "capability", "on_failure", "owner", "timout", "tools"],
    ]);
    for (const step of steps) {
      expect(step).toMatchObject({ manual: false, requiresApproval: false, retries: 0, continueOnError: false, always: false });
      expect(step.condition).toBeUndefined();
      expect(step.timeoutSecs).toBeUndefined();
    }
  });

  it("are named once per file, at the first step that has them, so they never crowd out real problems", () => {
    const step = (n: number) => `${n}. **S${n}**\n${" ".repeat(String(n).length + 2)}- tools: shell\n`;
    const md = `## Steps\n${Array.from({ length: 150 }, (_, i) => step(i + 1)).join("")}151. **Last** [timeout: soon]\n`;
    expect(parseProcedure(md, "SOP.md").diagnostics.map(shown)).toEqual([
      "SOP.md:3:6: warning: bullet \"tools\" (here and in steps 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, … and 139 more) has no effect in sop-runner " +
        "(it is kept as metadata); sop-runner has no agent tools: a step runs the sh code blocks under it",
      'SOP.md:302:25: timeout must be a positive whole number of seconds, got "soon"',
    ]);
  });
});

describe("a step's title and description", () => {
  it("takes the first bold text on the item's first line as the title, wherever it stands there", () => {
    const { steps, shown: diagnostics } = procedure("title-bold-mid-line.md");
    expect(diagnostics).toEqual([]);
    expect(steps.map((s) => [s.title, s.slug, s.description])).toEqual([
      ["now", "now", "Deploy please\nThe build is already tested."],
      ["dashboards", "dashboards", "Check the"],
      ["api", "api", "Roll back the"],
      ["Restart the service", "restart_the_service", "Be **careful** with the database."],
    ]);
  });

  it("never takes bold inside the attribute group for the title, and reads the group on either side of it", () => {
    const [, check, rollBack] = procedure("title-bold-mid-line.md").steps;
    expect(check?.condition?.source).toBe('ready == "**not a title**"');
    expect(rollBack?.always).toBe(true);
  });

  it("drops the dash that separates the title from the description, and no other", () => {
    const { steps, shown: diagnostics } = procedure("description-dash.md");
    expect(diagnostics).toEqual([]);
    expect(steps.map((s) => [s.title, s.description])).toEqual([
      ["Check readings", "Read sensor data and confirm."],
      ["Close valve", "Set GPIO pin 5 LOW."],
      ["Notify operator", "Send an alert."],
      ["Cool down", "Wait for the pipes."],
      ["Measure", "-5 degrees is the floor."],
      ["gauge", "Check the — then write it down."],
    ]);
    expect(steps[3]?.timeoutSecs).toBe(60);
  });
});

describe("ZeroClaw trigger types", () => {
  it('refuses type = "cron" at the type, saying to write a schedule with the same expression', () => {
    const { manifest: parsed, shown: diagnostics } = manifest("cron-trigger-type.toml");
    expect(diagnostics).toEqual([
      'sops/z/cron-trigger-type.toml:6:8: [[triggers]] #1 type "cron" is not a trigger type here; use type = "schedule" with cron = "*/5 * * * *"',
    ]);
    expect(parsed).toBeUndefined();
  });

  it("refuses mqtt, peripheral and webhook triggers at their type, saying plainly they are not supported", () => {
    const { manifest: parsed, shown: diagnostics } = manifest("unsupported-trigger-types.toml");
    const types = "remove this trigger (the trigger types are command, file_watch, schedule and manual)";
    expect(diagnostics).toEqual([
      `sops/z/unsupported-trigger-types.toml:6:8: [[triggers]] #1 type "mqtt" is not supported: sop-runner does not subscribe to MQTT topics; ${types}`,
      `sops/z/unsupported-trigger-types.toml:11:8: [[triggers]] #2 type "peripheral" is not supported: sop-runner reads no hardware signals; ${types}`,
      `sops/z/unsupported-trigger-types.toml:16:8: [[triggers]] #3 type "webhook" is not supported: sop-runner does not take webhooks yet; ${types}`,
    ]);
    expect(parsed).toBeUndefined();
  });
});

describe("deterministic = true in SOP.toml", () => {
  it("warns at the key that it has no effect and that the default supervised mode runs instead", () => {
    const { manifest: parsed, shown: diagnostics } = manifest("deterministic-true.toml");
    expect(diagnostics).toEqual([
      "sops/z/deterministic-true.toml:4:1: warning: [sop].deterministic has no effect in sop-runner; this SOP runs in supervised mode, the default execution_mode",
    ]);
    expect(parsed?.executionMode).toBe("supervised");
  });

  it("names the SOP's own execution_mode when it sets one", () => {
    const { manifest: parsed, shown: diagnostics } = manifest("deterministic-with-mode.toml");
    expect(diagnostics).toEqual([
      "sops/z/deterministic-with-mode.toml:5:1: warning: [sop].deterministic has no effect in sop-runner; this SOP runs in automatic mode, its execution_mode",
    ]);
    expect(parsed?.executionMode).toBe("automatic");
  });
});

describe("a folder with SOP.toml but no SOP.md", () => {
  it("reports the missing file and every problem of the manifest too", () => {
    const dir = "sops/manifest-without-procedure";
    const { definition, diagnostics } = parseSop({
      folder: "manifest-without-procedure",
      tomlFile: `${dir}/SOP.toml`,
      toml: fixture("manifest-without-procedure/SOP.toml"),
      mdFile: `${dir}/SOP.md`,
      markdown: undefined,
    });
    expect(definition).toBeUndefined();
    expect(diagnostics.map(shown)).toEqual([
      `${dir}/SOP.md:1:1: missing SOP.md: every SOP folder needs SOP.toml and SOP.md`,
      `${dir}/SOP.toml:4:12: [sop].priority must be one of low, medium, high, critical (or "normal"), got "urgent"`,
      `${dir}/SOP.toml:5:1: warning: unknown key "colour" in [sop]`,
      `${dir}/SOP.toml:8:8: [[triggers]] #1 type "cron" is not a trigger type here; use type = "schedule" with cron = "0 2 * * *"`,
    ]);
  });

  it("checks the name against the folder when the manifest is otherwise valid", () => {
    const toml = '[sop]\nname = "backup"\ndescription = "d"\n[gates]\npre_dump = { type = "approval" }\n';
    const { diagnostics } = parseSop({ folder: "db-backup", tomlFile: "SOP.toml", toml, mdFile: "SOP.md", markdown: undefined });
    expect(diagnostics.map(shown)).toEqual([
      "SOP.md:1:1: missing SOP.md: every SOP folder needs SOP.toml and SOP.md",
      'SOP.toml:2:8: [sop].name "backup" does not match its folder "db-backup"; rename one of them',
    ]);
  });
});
