/** Approving and denying on Slack as people do it: /approve, buttons, a quorum, a reason, a stale click. */
import { afterEach, describe, expect, it } from "vitest";
import { buttonsOf, labelOf, textOf, type FakeMessage } from "../../helpers/fake-slack.ts";
import { until } from "../../helpers/until.ts";
import { steps, type Workspace } from "../../helpers/workspace.ts";
import { alice, bob, carol, CHANNEL, mallory, startSlack, type SlackSetup } from "./slack-harness.ts";

const SHIP = steps("**Build**\n```sh\necho built\n```", "**Ship** [requires_approval: true]\n```sh\necho shipped\n```");

const sops = (toml: string) => async (ws: Workspace) => ws.addSop("ship", `description = "Ship it"\nmax_concurrent = 5\n${toml}`, SHIP);

let s: SlackSetup | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function startRun(setup: SlackSetup): Promise<{ runId: string; request: FakeMessage }> {
  const record = await setup.runner.execute("ship", { actor: "slack:UALICE" });
  expect(record.status).toBe("awaiting_approval");
  await setup.adapter.idle();
  const request = await until("the approval request", () => setup.fake.find(CHANNEL, new RegExp(`Approval needed[\\s\\S]*${record.run_id}`)));
  return { runId: record.run_id, request };
}

async function replyAt(setup: SlackSetup, responseUrl: string): Promise<Record<string, unknown>> {
  const [reply] = await until(`a reply at ${responseUrl}`, () => {
    const replies = setup.fake.responsesTo(responseUrl);
    return replies.length > 0 && replies;
  });
  return reply!;
}

async function statusOf(setup: SlackSetup, runId: string, status: string): Promise<void> {
  await until(`run ${status}`, async () => (await setup.runner.record(runId)).status === status);
  await setup.adapter.idle();
}

describe("Slack approvals", () => {
  it("/approve resumes the waiting run, and the request is edited to show who approved, without buttons", async () => {
    s = await startSlack({ sops: sops("") });
    const { runId, request } = await startRun(s);
    expect(buttonsOf(request).map((b) => [labelOf(b), b.style, b.action_id, b.value])).toEqual([
      ["Approve", "primary", `sop|approve|${runId}|step:2`, `sop|approve|${runId}|step:2`],
      ["Deny", "danger", `sop|deny|${runId}|step:2`, `sop|deny|${runId}|step:2`],
    ]);
    expect(textOf(request)).toContain("⏳ Waiting for a decision");
    expect(textOf(request)).toContain(`<http://bot.test/runs/${runId}|Open the run in the web UI>`);

    const sent = await s.user.command("/approve", "ship looks good", bob);
    // Acknowledged at once with nothing; the answer follows through the response URL.
    expect(sent).toMatchObject({ status: 200, body: "" });
    const reply = await replyAt(s, sent.responseUrl);
    expect(reply).toMatchObject({ response_type: "in_channel" });
    expect(textOf(reply)).toMatch(/✅ <@UBOB>: approved step:2 of run/);

    await statusOf(s, runId, "success");
    expect(request.updates).toBeGreaterThan(0);
    expect(buttonsOf(request)).toEqual([]);
    expect(textOf(request)).toMatch(/✅ Approved by <@UBOB> at \d{4}-\d\d-\d\d [\d:]+ UTC: looks good/);
    expect(s.fake.lastUpdateOf(request.ts)).toMatchObject({ channel: CHANNEL, ts: request.ts });
    expect((await s.runner.record(runId)).approvals[0]).toMatchObject({ decision: "approved", by: ["slack:UBOB"] });
  });

  it("refuses a click by someone who may not approve, only to them, records it, and keeps the buttons; an approver's click then counts", async () => {
    s = await startSlack({ sops: sops(`[approval]\napprovers = ["slack:UBOB"]`) });
    const { runId, request } = await startRun(s);
    const approve = `sop|approve|${runId}|step:2`;

    await s.adapter.idle();
    const editsOfRequest = () => s!.fake.callsOf("chat.update").filter((c) => c.args["ts"] === request.ts).length;
    const editsBefore = editsOfRequest();
    const refused = await s.user.click(request, approve, mallory);
    expect(refused).toMatchObject({ status: 200, body: "" });
    const no = await replyAt(s, refused.responseUrl);
    expect(no).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(no)).toContain("not allowed: <@UMALLORY> is not an approver of step:2 (approvers: <@UBOB>)");
    const audit = await s.runner.record(runId);
    expect(audit.status).toBe("awaiting_approval");
    expect(audit.approvals[0]?.refused).toEqual([expect.objectContaining({ by: "slack:UMALLORY", decision: "approve", reason: expect.stringContaining("not allowed") })]);
    await s.adapter.idle();
    // The request is left exactly as it was: still waiting, buttons and all, not even edited.
    expect(editsOfRequest()).toBe(editsBefore);
    expect(buttonsOf(request).map(labelOf)).toEqual(["Approve", "Deny"]);
    expect(textOf(request)).toContain("⏳ Waiting for a decision");
    expect(s.fake.callsOf("chat.postMessage").filter((c) => textOf(c.args).includes("not allowed"))).toEqual([]);

    const ok = await s.user.click(request, approve, bob);
    const yes = await replyAt(s, ok.responseUrl);
    expect(yes).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(yes)).toMatch(/✅ <@UBOB>: approved step:2/);
    await statusOf(s, runId, "success");
    expect(buttonsOf(request)).toEqual([]);
    expect(textOf(request)).toMatch(/Approved by <@UBOB>/);
  });

  it("needs two distinct approvers when min_approvals = 2: the first click shows 1 of 2, the second resumes the run", async () => {
    s = await startSlack({ sops: sops(`[approval]\nmin_approvals = 2`) });
    const { runId, request } = await startRun(s);
    const approve = `sop|approve|${runId}|step:2`;

    await replyAt(s, (await s.user.click(request, approve, bob)).responseUrl);
    await s.adapter.idle();
    expect(textOf(request)).toContain("⏳ 1 of 2 approvals so far: <@UBOB>");
    expect(buttonsOf(request).map(labelOf)).toEqual(["Approve", "Deny"]);
    expect((await s.runner.record(runId)).status).toBe("awaiting_approval");

    const twice = await replyAt(s, (await s.user.click(request, approve, bob)).responseUrl);
    expect(textOf(twice)).toContain("<@UBOB> already approved step:2; 1 of 2");

    await replyAt(s, (await s.user.click(request, approve, carol)).responseUrl);
    await statusOf(s, runId, "success");
    expect(textOf(request)).toMatch(/✅ Approved by <@UBOB>, <@UCAROL>/);
    expect(buttonsOf(request)).toEqual([]);
  });

  it("asks for a reason in a form on Deny, refuses a blank one, and denies the run with the reason in the audit and the message", async () => {
    s = await startSlack({ sops: sops("") });
    const { runId, request } = await startRun(s);

    const click = await s.user.click(request, `sop|deny|${runId}|step:2`, bob);
    expect(click).toMatchObject({ status: 200, body: "" });
    const opened = await until("views.open", () => s!.fake.callsOf("views.open")[0]);
    expect(opened.args["trigger_id"]).toMatch(/^trig\./);
    const view = s.fake.lastView()!;
    expect(view.callback_id).toBe("sop_deny_reason");
    expect(view.title.text).toBe("Deny the approval");
    expect(JSON.parse(view.private_metadata)).toEqual({ button: `sop|deny|${runId}|step:2`, channel: CHANNEL, responseUrl: click.responseUrl });
    expect(textOf(view)).toContain(`ship run ${runId.slice(0, 8)} at \`step:2\`: the run ends denied`);

    const blank = await s.user.submitLastView("   ", bob);
    expect(blank.status).toBe(200);
    expect(JSON.parse(blank.body!)).toEqual({ response_action: "errors", errors: { reason: "Say why: the reason goes into the audit record." } });
    expect((await s.runner.record(runId)).status).toBe("awaiting_approval");

    const submitted = await s.user.submitLastView("tests are red", bob);
    expect(submitted).toMatchObject({ status: 200, body: "" });
    await statusOf(s, runId, "denied");
    const reply = await replyAt(s, click.responseUrl);
    expect(reply).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(reply)).toMatch(/❌ <@UBOB>: denied step:2 of run .*; the run is over/);
    const audit = await s.runner.record(runId);
    expect(audit.approvals[0]).toMatchObject({ decision: "denied", by: ["slack:UBOB"], comment: "tests are red" });
    expect(audit.end_reason).toContain("tests are red");
    expect(textOf(request)).toMatch(/❌ Denied by <@UBOB> at .* UTC: tests are red/);
    expect(buttonsOf(request)).toEqual([]);
  });

  it("answers a stale button, after the run ended, with why, and changes nothing (no form for a stale Deny either)", async () => {
    s = await startSlack({ sops: sops("") });
    const { runId, request } = await startRun(s);
    const [approve, deny] = buttonsOf(request);
    await s.runner.approve("ship", { actor: "slack:UBOB", wait: true });
    await statusOf(s, runId, "success");
    const updates = request.updates;
    const shown = JSON.stringify(request.blocks);

    for (const button of [approve!, deny!]) {
      const late = await s.user.clickButton(button, carol, { channel: CHANNEL, ts: request.ts });
      const reply = await replyAt(s, late.responseUrl);
      expect(reply).toMatchObject({ response_type: "ephemeral" });
      expect(textOf(reply)).toContain(`run ${runId} already ended (success); nothing to decide`);
    }
    await s.adapter.idle();
    expect(s.fake.callsOf("views.open")).toEqual([]);
    expect(request.updates).toBe(updates);
    expect(JSON.stringify(request.blocks)).toBe(shown);
    expect((await s.runner.record(runId)).approvals[0]?.by).toEqual(["slack:UBOB"]);
  });

  it("answers a Deny by someone who may not decide with 'not allowed' at once, without a form, and records the attempt", async () => {
    s = await startSlack({ sops: sops(`[approval]\napprovers = ["slack:UBOB"]`) });
    const { runId, request } = await startRun(s);
    const [, deny] = buttonsOf(request);
    const click = await s.user.clickButton(deny!, mallory, { channel: CHANNEL, ts: request.ts });
    const reply = await replyAt(s, click.responseUrl);
    expect(textOf(reply)).toContain("not allowed: <@UMALLORY> is not an approver of step:2");
    expect(s.fake.callsOf("views.open")).toEqual([]);
    const audit = await s.runner.record(runId);
    expect(audit.status).toBe("awaiting_approval");
    expect(audit.approvals[0]?.refused).toEqual([expect.objectContaining({ by: "slack:UMALLORY", decision: "deny" })]);
  });

  it("offers one button per run when several wait, and a click approves exactly that run", async () => {
    s = await startSlack({ sops: sops("") });
    const first = await startRun(s);
    const second = await startRun(s);

    const sent = await s.user.command("/approve", "ship", alice);
    const pick = await replyAt(s, sent.responseUrl);
    expect(pick).toMatchObject({ response_type: "ephemeral" });
    expect(textOf(pick)).toContain("2 runs of ship are waiting; which one?");
    const buttons = buttonsOf(pick);
    // Each bound to its run and the gate the list shows it at.
    expect(buttons.map((b) => b.action_id)).toEqual([`sop|approve|${first.runId}|step:2`, `sop|approve|${second.runId}|step:2`]);

    // The pick list is ephemeral: Slack sends its clicks without a stored message.
    const click = await s.user.clickButton(buttons[1]!, alice, { channel: CHANNEL });
    expect(textOf(await replyAt(s, click.responseUrl))).toContain(`approved step:2 of run ${second.runId}`);
    await statusOf(s, second.runId, "success");
    expect((await s.runner.record(first.runId)).status).toBe("awaiting_approval");
  });
});

describe("Slack user groups as approvers", () => {
  it("counts a member of the slack-group, looked up once, and refuses a non-member", async () => {
    s = await startSlack({ sops: sops(`[approval]\napprovers = ["slack-group:S0OPS"]`), prepare: (fake) => fake.groups.set("S0OPS", ["UBOB", "UCAROL"]) });
    const { runId, request } = await startRun(s);
    expect(textOf(request)).toContain("<!subteam^S0OPS> (and admins)");
    const approve = `sop|approve|${runId}|step:2`;

    expect(textOf(await replyAt(s, (await s.user.click(request, approve, mallory)).responseUrl))).toContain("not allowed: <@UMALLORY>");
    await replyAt(s, (await s.user.click(request, approve, bob)).responseUrl);
    await statusOf(s, runId, "success");
    expect(textOf(request)).toMatch(/Approved by <@UBOB>/);
    // Two decisions, one lookup: the members are cached for a minute.
    expect(s.fake.callsOf("usergroups.users.list").map((c) => c.args["usergroup"])).toEqual(["S0OPS"]);
  });

  it("decides nothing and asks to try again while the group cannot be looked up (clicks, the Deny form, /approve), records nothing, logs once", async () => {
    s = await startSlack({
      sops: sops(`[approval]\napprovers = ["slack-group:S0OPS"]`),
      prepare: (fake) => {
        fake.groups.set("S0OPS", ["UBOB"]);
        fake.failNext("usergroups.users.list", 3, { error: "missing_scope" });
      },
    });
    const { runId, request } = await startRun(s);
    const [approve, deny] = buttonsOf(request);

    const attempts = [
      await s.user.clickButton(approve!, bob, { channel: CHANNEL, ts: request.ts }),
      await s.user.clickButton(deny!, bob, { channel: CHANNEL, ts: request.ts }),
      await s.user.command("/approve", "ship", bob),
    ];
    for (const sent of attempts) {
      const reply = await replyAt(s, sent.responseUrl);
      expect(reply).toMatchObject({ response_type: "ephemeral" });
      expect(textOf(reply)).toContain("cannot check your Slack groups right now (missing_scope: add the missing scope to the app and reinstall it); try again in a moment");
    }
    expect(s.fake.callsOf("views.open")).toEqual([]);
    // Nobody was refused: the engine never heard of these attempts.
    const audit = await s.runner.record(runId);
    expect(audit.status).toBe("awaiting_approval");
    expect(audit.approvals[0]?.refused ?? []).toEqual([]);
    const warnings = s.logs.filter((l) => l.level === "warn" && l.msg.includes("cannot read the members of slack-group:S0OPS"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("missing_scope");

    expect(textOf(await replyAt(s, (await s.user.click(request, approve!.action_id!, bob)).responseUrl))).toMatch(/✅ <@UBOB>: approved step:2/);
    await statusOf(s, runId, "success");
    expect(s.fake.callsOf("usergroups.users.list")).toHaveLength(4);
  });

  it("looks up only the groups the request could depend on: the clicked run's approvers and the admins; none for /sop list", async () => {
    s = await startSlack({
      sops: async (ws) => {
        await ws.addSop("ship", `description = "Ship it"\n[approval]\napprovers = ["slack-group:S0OPS"]`, SHIP);
        await ws.addSop("migrate", `description = "Migrate the database"\n[approval]\napprovers = ["slack-group:S0DB"]`, SHIP);
      },
      admins: ["slack-group:S0ADM", "slack:UROOT"],
      prepare: (fake) => {
        for (const g of ["S0OPS", "S0DB", "S0ADM"]) fake.groups.set(g, ["UBOB"]);
      },
    });
    const { runId, request } = await startRun(s);
    expect((await s.runner.execute("migrate", { actor: "slack:UALICE" })).status).toBe("awaiting_approval");
    const looked = () => s!.fake.callsOf("usergroups.users.list").map((c) => c.args["usergroup"]).sort();

    await replyAt(s, (await s.user.command("/sop", "list", bob)).responseUrl);
    expect(looked()).toEqual([]);
    await replyAt(s, (await s.user.click(request, `sop|approve|${runId}|step:2`, bob)).responseUrl);
    expect(looked()).toEqual(["S0ADM", "S0OPS"]);
    await statusOf(s, runId, "success");

    const sent = await s.user.command("/approve", "migrate", bob);
    expect(textOf(await replyAt(s, sent.responseUrl))).toMatch(/approved step:2/);
    expect(looked()).toEqual(["S0ADM", "S0DB", "S0OPS"]);
  });
});
