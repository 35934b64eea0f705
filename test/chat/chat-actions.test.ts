/** Chat commands as a person types them, and what the bot answers, the same on every platform. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { parseButtonId } from "../../src/chat/button-id.ts";
import { ChatActions, type ChatCaller } from "../../src/chat/chat-actions.ts";
import type { ChatReply } from "../../src/chat/chat-message.ts";
import { parseDecision, parseSop, splitWords } from "../../src/chat/command-text.ts";
import { storeOf } from "../helpers/runner-internals.ts";
import { steps, Workspace } from "../helpers/workspace.ts";

const alice: ChatCaller = { actor: { id: "slack:UALICE" }, source: "slack:C1" };
const bob: ChatCaller = { actor: { id: "slack:UBOB", groups: ["slack-group:SOPS"] }, source: "slack:C1" };
const mallory: ChatCaller = { actor: { id: "slack:UMALLORY" }, source: "slack:C1" };

const text = (r: ChatReply): string => [r.message.title, ...r.message.lines, ...r.message.fields.map((f) => `${f.label}: ${f.value}`)].join("\n");

describe("command text", () => {
  it("tells a run id from the start of a comment", () => {
    expect(parseDecision("approve", "deploy-production")).toEqual({ ok: true, command: { kind: "approve", sop: "deploy-production" } });
    expect(parseDecision("deny", "deploy 3f2a1b2c-0000-4000-8000-000000000001 tests are red")).toEqual({
      ok: true, command: { kind: "deny", sop: "deploy", runId: "3f2a1b2c-0000-4000-8000-000000000001", text: "tests are red" },
    });
    expect(parseDecision("deny", "deploy not now")).toEqual({ ok: true, command: { kind: "deny", sop: "deploy", text: "not now" } });
    expect(parseDecision("approve", "  ")).toEqual({ ok: false, error: "usage: /approve NAME [RUN_ID] [comment]" });
  });

  it("reads /sop subcommands, quoted values and refuses what it does not know", () => {
    expect(parseSop("run deploy version=1.2.3 note=\"two words\"")).toEqual({ ok: true, command: { kind: "run", sop: "deploy", vars: { version: "1.2.3", note: "two words" } } });
    expect(parseSop("")).toEqual({ ok: true, command: { kind: "help" } });
    expect(parseSop("cancel deploy flaky tests")).toEqual({ ok: true, command: { kind: "cancel", target: "deploy", reason: "flaky tests" } });
    expect(parseSop("plan deploy oops")).toEqual({ ok: false, error: "/sop plan: \"oops\" is not key=value" });
    expect(parseSop("destroy everything")).toEqual({ ok: false, error: "unknown /sop command \"destroy\"; try /sop help" });
    expect(splitWords(`a 'b c' d="e f"`)).toEqual(["a", "b c", "d=e f"]);
  });
});

describe("ChatActions", () => {
  let ws: Workspace;
  let runner: SopRunner;
  let actions: ChatActions;
  const touched: string[] = [];

  beforeEach(async () => {
    ws = await Workspace.create();
    await ws.addSop("guarded", `description = "guarded"\nmax_concurrent = 2\n[approval]\napprovers = ["slack-group:SOPS"]\n[[triggers]]\ntype = "command"\npattern = "^ship (?<what>\\\\S+)$"\ncapture_groups = true`,
      steps("**Ship** [requires_approval: true]\n```sh\ntrue\n```"));
    await ws.addSop("cooling", `description = "cools"\ncooldown_secs = 600\n[[triggers]]\ntype = "command"\npattern = "^cool$"`, steps("**Go**\n```sh\ntrue\n```"));
    const deployment = await ws.deployment();
    runner = deployment.runner;
    touched.length = 0;
    actions = new ChatActions({ runner, ledger: deployment.ledger, context: { runUrl: (id) => `http://bot.test/runs/${id}` }, touched: (id) => touched.push(id) });
  });

  afterEach(async () => {
    await runner.close();
    await ws.remove();
  });

  it("approves by command for a group member and says so in the channel", async () => {
    const run = await runner.execute("guarded", { actor: "slack:UALICE" });
    const reply = await actions.command({ kind: "approve", sop: "guarded", text: "lgtm" }, bob);
    expect(reply.ephemeral).toBe(false);
    expect(reply.message.title).toBe(`✅ slack:UBOB: approved step:1 of run ${run.run_id}`);
    expect(touched).toContain(run.run_id);
    const record = await runner.record(run.run_id);
    expect(record.approvals[0]).toMatchObject({ decision: "approved", by: ["slack:UBOB"], comment: "lgtm" });
  });

  it("refuses a click by someone who is not an approver, privately, and the audit keeps the attempt", async () => {
    const run = await runner.execute("guarded", { actor: "slack:UALICE" });
    const reply = await actions.click({ action: "approve", runId: run.run_id, checkpoint: "step:1" }, mallory);
    expect(reply.ephemeral).toBe(true);
    expect(reply.message.title).toBe("not allowed: slack:UMALLORY is not an approver of step:1 (approvers: slack-group:SOPS)");
    expect((await runner.record(run.run_id)).approvals[0]!.refused).toMatchObject([{ by: "slack:UMALLORY", decision: "approve" }]);
    expect(touched).toEqual([run.run_id]);
  });

  it("offers one button per run when several wait, each bound to its run", async () => {
    const a = await runner.execute("guarded", { actor: "slack:UALICE" });
    const b = await runner.execute("guarded", { actor: "slack:UALICE" });
    const reply = await actions.command({ kind: "approve", sop: "guarded" }, bob);
    expect(reply.ephemeral).toBe(true);
    expect(reply.message.title).toBe("2 runs of guarded are waiting; which one?");
    expect(reply.message.buttons.map((btn) => parseButtonId(btn.id)?.runId).sort()).toEqual([a.run_id, b.run_id].sort());
    expect(reply.message.buttons.every((btn) => btn.confirm === undefined)).toBe(true);
    const picked = await actions.click(parseButtonId(reply.message.buttons[0]!.id)!, bob);
    expect(picked.message.title).toMatch(/approved step:1 of run/);
  });

  it("binds each 'which run?' button to the gate it lists, so a later gate is never decided unseen", async () => {
    await ws.addSop("two-gates", `description = "x"\nmax_concurrent = 2\n[approval]\napprovers = ["slack-group:SOPS"]`,
      steps("**Staging** [requires_approval: true]\n```sh\ntrue\n```", "**Production** [requires_approval: true]\n```sh\necho prod\n```"));
    await runner.reload();
    const a = await runner.execute("two-gates", { actor: "slack:UALICE" });
    await runner.execute("two-gates", { actor: "slack:UALICE" });
    const pick = await actions.command({ kind: "approve", sop: "two-gates" }, bob);
    expect(text(pick)).toContain(`\`${a.run_id}\` awaiting approval at \`step:1\``);
    const buttonForA = pick.message.buttons.map((btn) => parseButtonId(btn.id)!).find((t) => t.runId === a.run_id)!;
    expect(buttonForA.checkpoint).toBe("step:1");

    // Someone approves step:1 of run A from its request meanwhile: A runs step 1 and waits at step:2.
    await runner.approve("two-gates", { runId: a.run_id, actor: { id: "slack:UCAROL", groups: ["slack-group:SOPS"] }, checkpoint: "step:1", wait: true });
    const reply = await actions.click(buttonForA, bob);
    expect(reply.message.title).toMatch(/step:1 .*already/);
    expect((await runner.run(a.run_id))!.run.checkpoints.find((c) => c.id === "step:2")?.status).toBe("pending");
  });

  it("applies a typed /approve to the gate that waited when it was read, not to one the run moved on to meanwhile", async () => {
    await ws.addSop("two-gates", `description = "x"\n[approval]\napprovers = ["slack-group:SOPS"]`,
      steps("**Staging** [requires_approval: true]\n```sh\ntrue\n```", "**Production** [requires_approval: true]\n```sh\necho prod\n```"));
    await runner.reload();
    const run = await runner.execute("two-gates", { actor: "slack:UALICE" });
    const store = storeOf(runner);
    const seen = (await store.get(run.run_id))!;
    await runner.approve("two-gates", { runId: run.run_id, actor: { id: "slack:UCAROL", groups: ["slack-group:SOPS"] }, checkpoint: "step:1", wait: true });
    // Bob's command read the run while it still waited at step:1 (the store answers that read as it was then).
    const get = store.get.bind(store);
    store.get = async (id) => {
      store.get = get;
      return id === run.run_id ? structuredClone(seen) : get(id);
    };
    const reply = await actions.command({ kind: "approve", sop: "two-gates", runId: run.run_id }, bob);
    expect(reply.message.title).toMatch(/^step:1 of run .* was already decided/);
    expect((await runner.run(run.run_id))!.run.checkpoints.find((c) => c.id === "step:2")?.status).toBe("pending");
  });

  it("a stale button says the run ended and changes nothing", async () => {
    const run = await runner.execute("guarded", { actor: "slack:UALICE" });
    await runner.deny("guarded", { actor: bob.actor });
    const reply = await actions.click({ action: "approve", runId: run.run_id, checkpoint: "step:1" }, bob);
    expect(reply.message.title).toBe(`run ${run.run_id} already ended (denied); nothing to decide`);
    expect((await runner.record(run.run_id)).status).toBe("denied");
  });

  it("starts runs from a matching message with its captures, and says why a trigger is refused", async () => {
    expect(await actions.message("hello there", alice)).toBeUndefined();
    const started = (await actions.message("ship api", alice))!;
    expect(started.ephemeral).toBe(false);
    expect(started.message.title).toMatch(/^▶️ Started guarded 0\.1\.0, run [0-9a-f]{8}$/);
    expect(text(started)).toContain("1. Ship — waits for approval");
    const run = (await runner.runs({ sop: "guarded" }))[0]!;
    expect(run).toMatchObject({ inputVars: { what: "api" }, trigger: { type: "command", source: "slack:C1" }, requestedBy: "slack:UALICE" });

    await actions.message("cool", alice);
    const refused = (await actions.message("cool", alice))!;
    expect(refused.message.title).toMatch(/^❌ cooling refused: cooling is cooling down: \d+ s left \(cooldown_secs = 600\); an admin may start it anyway: sop run cooling --force, "force": true in the API, or "Start anyway" on the web$/);
  });

  it("answers list, plan, status, stats and help privately, and cancel in the channel", async () => {
    expect(text(await actions.command({ kind: "list" }, alice))).toContain("`guarded` 0.1.0 (medium) — guarded · command /^ship (?<what>\\S+)$/");
    expect(text(await actions.command({ kind: "plan", sop: "guarded", vars: {} }, alice))).toContain("⏳ 1. Ship — waits for approval");
    const run = await runner.execute("guarded", { actor: "slack:UALICE" });
    const status = await actions.command({ kind: "status", target: "guarded" }, alice);
    expect(status.ephemeral).toBe(true);
    expect(text(status)).toContain(`\`${run.run_id}\` awaiting approval at \`step:1\``);
    expect(text(await actions.command({ kind: "status", target: run.run_id }, alice))).toContain("awaiting approval");
    const cancelled = await actions.command({ kind: "cancel", target: "guarded", reason: "not today" }, alice);
    expect(cancelled.ephemeral).toBe(false);
    expect(cancelled.message.title).toContain("⏹️ slack:UALICE: ");
    expect((await runner.record(run.run_id)).status).toBe("cancelled");
    expect(text(await actions.command({ kind: "stats" }, alice))).toContain("`guarded`: 1 runs ended, success 0 %");
    expect(text(await actions.command({ kind: "help" }, alice))).toContain("/sop run NAME");
    const unknown = await actions.command({ kind: "stats", sop: "nope" }, alice);
    expect(unknown).toMatchObject({ ephemeral: true, message: { title: "unknown SOP \"nope\"" } });
  });

  it("asks 'are you sure?' on the pick-a-run buttons of a critical SOP, as on its requests", async () => {
    await ws.addSop("vital", `description = "vital"\npriority = "critical"\nmax_concurrent = 2`, steps("**Go** [requires_approval: true]\n```sh\ntrue\n```"));
    await runner.reload();
    await runner.execute("vital", { actor: "slack:UALICE" });
    await runner.execute("vital", { actor: "slack:UALICE" });
    const reply = await actions.command({ kind: "approve", sop: "vital" }, bob);
    expect(reply.message.buttons.map((b) => b.confirm?.title)).toEqual(["Approve vital?", "Approve vital?"]);
  });

  it("binds a Deny form to the checkpoint it asks about, also for a 'which run?' button, and asks nobody who may not decide", async () => {
    const run = await runner.execute("guarded", { actor: "slack:UALICE" });
    const asked = await actions.reasonWorthAsking({ action: "deny", runId: run.run_id }, bob);
    expect(asked?.checkpoint.id).toBe("step:1");
    expect(parseButtonId(asked!.button)).toEqual({ action: "deny", runId: run.run_id, checkpoint: "step:1" });
    expect(await actions.reasonWorthAsking({ action: "deny", runId: run.run_id }, mallory)).toBeUndefined();
  });

  it("handles a message delivered twice (a platform's retry, another bot process) once, and claims nothing for chatter", async () => {
    const once = { platform: "slack" as const, id: "C1-1700000000.000100" };
    expect(await actions.message("ship api", alice, once)).toMatchObject({ ephemeral: false });
    expect(await actions.message("ship api", alice, once)).toBeUndefined();
    expect(await runner.runs({ sop: "guarded" })).toHaveLength(1);
    expect(await actions.message("just chatting", alice, { platform: "slack", id: "C1-1700000000.000200" })).toBeUndefined();
    // Nothing was claimed for the chatter: the same id still starts a run once it matches.
    expect(await actions.message("ship web", alice, { platform: "slack", id: "C1-1700000000.000200" })).toMatchObject({ ephemeral: false });
  });
});
