/** "The SOP changed since this gate was last passed": the canonical text, the compact diff, and which earlier run it is measured against. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { diffLineText } from "../../src/chat/approval-request.ts";
import { compareDefinitions, definitionChanges, foldDiff, type DiffLine } from "../../src/chat/definition-change.ts";
import { definitionText } from "../../src/chat/definition-text.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import { definition, step } from "../helpers/definitions.ts";
import { MemorySurface } from "../helpers/memory-surface.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { steps, Workspace } from "../helpers/workspace.ts";
import type { MessageLedger } from "../../src/ports/message-ledger.ts";

const text = (lines: readonly DiffLine[]): string[] => lines.map(diffLineText);

const V1 = definition([
  step(1, "Build", { commands: ["make\nmake test"], description: "Builds it." }),
  step(2, "Ship", { requiresApproval: true, commands: ["deploy --to staging", "notify"] }),
  step(3, "Verify", { if: "shipped" }),
], { vars: { env: "prod", api_token: "abc123456" } });

describe("the canonical text of a definition", () => {
  it("writes settings, gates and each step's number, title, attributes and commands, one fact a line, with secret defaults masked", () => {
    const def = definition([
      step(1, "Patch", { if: "env == \"prod\"", retries: 2, timeoutSecs: 60, commands: ["apt-get upgrade -y", "reboot"] }),
      step(2, "Check", { manual: true, commands: [], always: true }),
    ], {
      vars: { env: "prod", db_password: "hunter2hunter2" }, secrets: ["DEPLOY_TOKEN"], priority: "critical",
      gates: [{ name: "pre_patch", type: "approval", required: true, policy: { approvers: ["slack:U01"], minApprovals: 2, allowSelfApproval: false, timeoutSecs: 0, onTimeout: "deny" }, attach: { when: "pre", step: 1 } },
        { name: "post_patch", type: "verification", command: "npm audit", attach: { when: "post", step: 1 } }],
      triggers: [{ type: "schedule", cron: "0 2 * * *" }],
    });
    expect(definitionText(def)).toBe([
      "sop test-sop", "priority: critical", "execution_mode: automatic", "cooldown_secs: 0", "max_concurrent: 1", "timeout_secs: none", "workdir: .",
      "var db_password = ***", "var env = \"prod\"", "secrets: DEPLOY_TOKEN", "approval: 1 of anyone, self-approval allowed, no timeout",
      "notify: slack none; discord none", "trigger: schedule \"0 2 * * *\"",
      "gate pre_patch: approval before step 1, 2 of slack:U01, self-approval refused, no timeout",
      "gate post_patch: verification after step 1: npm audit",
      "step 1. Patch [if: env == \"prod\", timeout: 60, retries: 2]", "    apt-get upgrade -y", "  then:", "    reboot",
      "step 2. Check [manual: true, always: true]",
      "",
    ].join("\n"));
    expect(definitionText(def)).not.toContain("hunter2");
  });
});

describe("the diff of two definitions", () => {
  it("shows the changed lines with one line of context, the step a change inside it belongs to, and … between hunks", async () => {
    const v2 = definition([
      step(1, "Build", { commands: ["make\nmake test"] }),
      step(2, "Ship", { requiresApproval: true, commands: ["deploy --to staging", "notify"] }),
      step(3, "Verify", { if: "shipped && ok", commands: ["echo 3", "echo verified"] }),
    ], { vars: { env: "prod", api_token: "abc123456" }, approval: { ...V1.approval, minApprovals: 2 } });
    const diff = await compareDefinitions(V1, v2);
    expect(text(diff.lines)).toEqual([
      "  secrets: none",
      "- approval: 1 of anyone, self-approval allowed, no timeout",
      "+ approval: 2 of anyone, self-approval allowed, no timeout",
      "  notify: slack none; discord none",
      "@@ step 2. Ship [requires_approval: true]",
      "      notify",
      "- step 3. Verify [if: shipped]",
      "+ step 3. Verify [if: shipped && ok]",
      "      echo 3",
      "+   then:",
      "+     echo verified",
    ]);
    expect(diff.changed).toBe(6);
    const settings = definition(V1.steps, { ...V1, priority: "high", notify: { slack: ["C-OPS"], discord: [] } });
    expect(text((await compareDefinitions(V1, settings)).lines)).toEqual([
      "  sop test-sop", "- priority: medium", "+ priority: high", "  execution_mode: automatic",
      "  …",
      "  approval: 1 of anyone, self-approval allowed, no timeout", "- notify: slack none; discord none", "+ notify: slack C-OPS; discord none", "  step 1. Build",
    ]);
  });

  it("names the step when a hunk starts inside it", async () => {
    const long = ["a", "b", "c", "d", "e", "f"];
    const before = definition([step(1, "Deploy", { commands: [long.join("\n")] })]);
    const after = definition([step(1, "Deploy", { commands: [long.map((l) => (l === "e" ? "e --force" : l)).join("\n")] })]);
    expect(text((await compareDefinitions(before, after)).lines)).toEqual(["@@ step 1. Deploy", "      d", "-     e", "+     e --force", "      f"]);
  });

  it("shows that a secret-named default changed without showing either value", async () => {
    const before = definition(V1.steps, { vars: { env: "prod", db_password: "hunter2-old" } });
    const after = definition(V1.steps, { vars: { env: "prod", db_password: "hunter2-new" } });
    const diff = await compareDefinitions(before, after);
    expect(diff.changed).toBe(2);
    expect(text(diff.lines)).toContain("- var db_password = ***");
    expect(text(diff.lines)).toContain("+ var db_password = *** (changed)");
    expect(JSON.stringify(diff)).not.toMatch(/hunter2/);
    expect(await compareDefinitions(before, definition(V1.steps, { vars: { env: "prod", db_password: "hunter2-old" } }))).toMatchObject({ changed: 0 });
  });

  it("finds nothing when only prose changed: descriptions, blocks shown but never run, the version", async () => {
    const reworded = definition(V1.steps.map((s) => ({ ...s, description: `${s.description} Carefully.`, shown: [{ lang: "text", code: "example" }] })), { ...V1, version: "2.0.0", description: "new words" });
    expect(await compareDefinitions(V1, reworded)).toEqual({ lines: [], changed: 0, tooLarge: false });
  });

  it("folds a long diff after a number of changed lines and says how many more there are", async () => {
    const before = definition([step(1, "Many", { commands: [Array.from({ length: 30 }, (_, i) => `echo ${i}`).join("\n")] })]);
    const after = definition([step(1, "Many", { commands: [Array.from({ length: 30 }, (_, i) => `echo ${i} changed`).join("\n")] })]);
    const { lines, changed } = await compareDefinitions(before, after);
    expect(changed).toBe(60);
    const { shown, more } = foldDiff(lines, 10);
    expect(shown.filter((l) => l.kind === "add" || l.kind === "remove")).toHaveLength(10);
    expect(more).toBe(50);
    expect(foldDiff(lines, 100)).toEqual({ shown: lines, more: 0 });
  });
});

describe("definitionChanges: the run that last passed the gate", () => {
  let ws: Workspace;
  let runner: SopRunner | undefined;
  let notifier: ChatNotifier | undefined;
  afterEach(async () => {
    await notifier?.close();
    await runner?.close();
    await ws.remove();
    notifier = undefined;
    runner = undefined;
  });

  const SHIP = (command: string) => steps("**Build**\n```sh\necho built\n```", `**Ship** [requires_approval: true]\n\`\`\`sh\n${command}\n\`\`\``);

  const ledgers = new Map<SopRunner, MessageLedger>();

  async function setUp(settings = "", clock?: TestClock) {
    ws = await Workspace.create();
    await ws.addSop("ship", `description = "ships"\nversion = "1.0.0"\n${settings}[notify]\nslack = ["C-OPS"]`, SHIP("echo shipping to staging"));
    const deployment = await ws.deployment({ admins: ["api:root"], ...(clock ? { clock } : {}) });
    runner = deployment.runner;
    ledgers.set(runner, deployment.ledger);
    return runner;
  }

  async function edit(r: SopRunner, from: string, to: string, version?: string) {
    const md = join(ws.sopsDir, "ship", "SOP.md");
    await writeFile(md, (await readFile(md, "utf8")).replace(from, to));
    if (version) {
      const toml = join(ws.sopsDir, "ship", "SOP.toml");
      await writeFile(toml, (await readFile(toml, "utf8")).replace(/version = "[^"]+"/, `version = "${version}"`));
    }
    await r.reload();
  }

  const waitingChange = async (r: SopRunner, runId: string) => {
    const stored = (await r.run(runId))!;
    return (await definitionChanges(r, stored)).get("step:2");
  };

  it("compares with the last run that approved the gate, whatever was denied since, and says nothing when nothing changed", async () => {
    const r = await setUp();
    const first = await r.execute("ship", { actor: "slack:UALICE" });
    expect(await waitingChange(r, first.run_id)).toBeUndefined();
    await r.approve("ship", { actor: "slack:UBOB", runId: first.run_id, wait: true });

    const same = await r.execute("ship", { actor: "slack:UALICE" });
    expect(await waitingChange(r, same.run_id)).toBeUndefined();
    await r.deny("ship", { actor: "slack:UBOB", runId: same.run_id, reason: "not now" });

    await edit(r, "echo shipping to staging", "echo shipping to production --force", "1.1.0");
    const changed = await r.execute("ship", { actor: "slack:UALICE" });
    const change = await waitingChange(r, changed.run_id);
    expect(change?.since).toMatchObject({ runId: first.run_id, version: "1.0.0", decision: "approved" });
    expect(change?.version).toBe("1.1.0");
    expect(text(change!.lines)).toEqual([
      "  step 2. Ship [requires_approval: true]",
      "-     echo shipping to staging",
      "+     echo shipping to production --force",
    ]);
  });

  it("counts a gate an admin bypassed as passed", async () => {
    const r = await setUp();
    await r.execute("ship", { actor: "api:root", skipApproval: true });
    await edit(r, "echo shipping to staging", "echo shipping twice");
    const waiting = await r.execute("ship", { actor: "slack:UALICE" });
    const change = await waitingChange(r, waiting.run_id);
    expect(change?.since.decision).toBe("bypassed");
    expect(text(change!.lines)).toContain("+     echo shipping twice");
  });

  it("does not count a gate approved only by its timeout: no person looked at that version", async () => {
    const clock = new TestClock();
    const r = await setUp(`[approval]\ntimeout_secs = 60\non_timeout = "approve"\n`, clock);
    const first = await r.execute("ship", { actor: "slack:UALICE" });
    await r.approve("ship", { actor: "slack:UBOB", runId: first.run_id, wait: true });
    await edit(r, "echo shipping to staging", "echo shipping twice");
    const unanswered = await r.execute("ship", { actor: "slack:UALICE" });
    await clock.advance(60_000);
    await until("the timeout to approve", async () => (await r.record(unanswered.run_id)).status === "success");

    const next = await r.execute("ship", { actor: "slack:UALICE" });
    const change = await waitingChange(r, next.run_id);
    expect(change?.since).toMatchObject({ runId: first.run_id, decision: "approved" });
    expect(text(change!.lines)).toContain("+     echo shipping twice");
  });

  it("ignores a run that passed the gate only after this request was made", async () => {
    const r = await setUp(`max_concurrent = 2\n`);
    const older = await r.execute("ship", { actor: "slack:UALICE" });
    await edit(r, "echo shipping to staging", "echo shipping twice");
    const newer = await r.execute("ship", { actor: "slack:UALICE" });
    await r.approve("ship", { actor: "slack:UBOB", runId: older.run_id, wait: true });
    expect(await waitingChange(r, newer.run_id)).toBeUndefined();
  });

  it("reads on past pages of runs that passed the gate only after the request, to the run that passed it before", async () => {
    const r = await setUp();
    const first = await r.execute("ship", { actor: "slack:UALICE" });
    await r.approve("ship", { actor: "slack:UBOB", runId: first.run_id, wait: true });
    await edit(r, "echo shipping to staging", "echo shipping twice");
    const waiting = (await r.run((await r.execute("ship", { actor: "slack:UALICE" })).run_id))!;
    const approved = (await r.run(first.run_id))!.run;
    const asked = waiting.run.checkpoints.find((c) => c.id === "step:2")!.requestedAt;
    // Two pages and more of runs (newest first) whose gate was approved after this request was made.
    const passedLater = Array.from({ length: 250 }, (_, i) => ({
      ...approved,
      id: `later-${i}`,
      checkpoints: approved.checkpoints.map((c) => ({ ...c, decidedAt: asked + 1 })),
    }));
    const newestFirst = [waiting.run, ...passedLater, approved];
    const history: Pick<SopRunner, "history" | "run"> = {
      history: async ({ limit, cursor }) => {
        const start = Number(cursor ?? 0);
        const next = start + limit < newestFirst.length ? String(start + limit) : undefined;
        return { runs: newestFirst.slice(start, start + limit), ...(next === undefined ? {} : { next }) };
      },
      run: (id) => r.run(id),
    };
    const change = (await definitionChanges(history, waiting)).get("step:2");
    expect(change?.since.runId).toBe(first.run_id);
    expect(text(change!.lines)).toContain("+     echo shipping twice");
  });

  it("shows the change in the channel's request, folded to a few lines, and never again once decided", async () => {
    const r = await setUp();
    const surface = new MemorySurface();
    notifier = new ChatNotifier({ runner: r, ledger: ledgers.get(r)!, surface, context: { runUrl: (id) => `http://bot.test/runs/${id}` }, log: silentLogger });
    await notifier.start();
    const first = await r.execute("ship", { actor: "slack:UALICE" });
    await r.approve("ship", { actor: "slack:UBOB", runId: first.run_id, wait: true });
    await edit(r, "echo shipping to staging", Array.from({ length: 14 }, (_, i) => `echo part ${i}`).join("\n   "));
    const second = await r.execute("ship", { actor: "slack:UALICE" });
    await notifier.idle();
    const request = surface.shown.find((m) => m.message.title.startsWith("Approval needed") && m.message.lines.some((l) => l.includes("The SOP changed")))!;
    const shown = surface.text(request);
    expect(shown).toContain(`⚠️ The SOP changed since this gate was last approved: in run ${first.run_id.slice(0, 8)} at `);
    expect(shown).toContain("(version 1.0.0 both times).");
    expect(shown).toContain("-     echo shipping to staging\n+     echo part 0");
    expect(shown).toContain("… 5 more changed lines, see the run page");
    expect(request.message.link?.url).toBe(`http://bot.test/runs/${second.run_id}`);

    await r.approve("ship", { actor: "slack:UBOB", runId: second.run_id, wait: true });
    await notifier.idle();
    expect(surface.text(surface.shown.find((m) => m.id === request.id))).not.toContain("The SOP changed");
  });
});
