/** The buttons of an approval request: who may click, quorum, Deny with a reason, stale and critical requests. */
import { afterEach, beforeEach, expect, it } from "vitest";
import type { AuditRecord } from "../../../src/core/audit/audit-record.ts";
import { buttonClick, buttonsOf, DISCORD, modalSubmit, option, slashCommand, textOf, type FakeMessage, type Person } from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";
import { actor, addShip, DiscordBot, PEOPLE } from "./discord-bot.ts";

let ws: Workspace;
let bot: DiscordBot;

beforeEach(async () => {
  ws = await Workspace.create();
});

afterEach(async () => {
  await bot.close();
  await ws.remove();
});

/** Starts `ship` and returns its request message as posted. */
async function waitingRequest(o: Parameters<typeof addShip>[1] = {}): Promise<{ runId: string; request: FakeMessage }> {
  await addShip(ws, o);
  bot = await DiscordBot.start(ws);
  const run = await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  expect(run.status).toMatch(/^awaiting_/);
  await bot.settled();
  const request = bot.fake.find(o.manual ? "Manual step needed: ship" : "Approval needed: ship")!;
  return { runId: run.run_id, request };
}

function click(request: FakeMessage, label: string, person: Person) {
  const id = buttonsOf(request)[label];
  expect(id, `a ${label} button`).toBeDefined();
  return bot.fake.interact(buttonClick(id!, person, bot.fake.messageObject(request)));
}

async function answered(i: { token: string }, kind: "edit" | "callback" = "edit"): Promise<string> {
  await until("the answer", () => bot.fake.answersTo(i).some((a) => a.kind === kind));
  return bot.fake.answerText(i);
}

const recordOf = (runId: string): Promise<AuditRecord> => bot.runner.record(runId);
const current = (m: FakeMessage): FakeMessage => bot.fake.messages.find((x) => x.id === m.id)!;

it("a member with the approvers role approves with the button; the answer is private and the request shows who", async () => {
  const { runId, request } = await waitingRequest();
  const i = click(request, "Approve", PEOPLE.carol);
  expect(await answered(i)).toContain(`✅ <@${PEOPLE.carol.id}>: approved step:2 of run ${runId}`);
  expect(bot.fake.answersTo(i)[0]).toMatchObject({ kind: "callback", type: 5, data: { flags: 64 } });

  await until("the run to succeed", async () => (await recordOf(runId)).status === "success");
  await bot.settled();
  expect(current(request).components).toEqual([]);
  expect(textOf(current(request))).toMatch(new RegExp(`✅ Approved by <@${PEOPLE.carol.id}> at `));
  expect((await recordOf(runId)).approvals[0]).toMatchObject({ decision: "approved", by: [actor(PEOPLE.carol)] });
});

it("a member without the role is told privately that they may not; the attempt is in the audit and the request still waits", async () => {
  const { runId, request } = await waitingRequest();
  const shown = structuredClone(request);
  const i = click(request, "Approve", PEOPLE.mallory);
  expect(await answered(i)).toBe(`**not allowed: <@${PEOPLE.mallory.id}> is not an approver of step:2 (approvers: <@&${DISCORD.roles.approvers}>)**`);
  expect(bot.fake.answeredPrivately(i)).toBe(true);

  const record = await recordOf(runId);
  expect(record.status).toBe("awaiting_approval");
  expect(record.approvals[0]!.refused).toMatchObject([{ by: actor(PEOPLE.mallory), decision: "approve" }]);
  // Nor is there a form asking why for a Deny that could not count.
  const deny = click(request, "Deny", PEOPLE.mallory);
  expect(await answered(deny)).toContain("not allowed");
  expect(bot.fake.answersTo(deny).map((a) => a.type ?? a.kind)).toEqual([5, "edit"]);

  await bot.settled();
  expect(current(request)).toEqual(shown);
  expect(Object.keys(buttonsOf(shown))).toEqual(["Approve", "Deny"]);
});

it("with two approvals needed, the first click shows 1 of 2 and keeps the buttons; the second resumes the run", async () => {
  const { runId, request } = await waitingRequest({ minApprovals: 2 });
  expect(await answered(click(request, "Approve", PEOPLE.bob))).toContain("1 of 2");
  await bot.settled();
  expect(current(request).embeds[0]!.description).toContain(`⏳ 1 of 2 approvals so far: <@${PEOPLE.bob.id}>`);
  expect(Object.keys(buttonsOf(current(request)))).toEqual(["Approve", "Deny"]);

  const again = click(current(request), "Approve", PEOPLE.bob);
  expect(await answered(again)).toMatch(/already/);
  expect((await recordOf(runId)).status).toBe("awaiting_approval");

  await answered(click(current(request), "Approve", PEOPLE.carol));
  await until("the run to succeed", async () => (await recordOf(runId)).status === "success");
  expect((await recordOf(runId)).approvals[0]).toMatchObject({ decision: "approved", by: [actor(PEOPLE.bob), actor(PEOPLE.carol)] });
  await bot.settled();
  expect(current(request).components).toEqual([]);
  expect(textOf(current(request))).toContain(`✅ Approved by <@${PEOPLE.bob.id}>, <@${PEOPLE.carol.id}>`);
});

it("Deny asks for the reason in a form; submitted, the run is denied with it and the request shows it", async () => {
  const { runId, request } = await waitingRequest();
  const i = click(request, "Deny", PEOPLE.bob);
  await until("the form", () => bot.fake.answersTo(i).length > 0);
  const [form] = bot.fake.answersTo(i);
  expect(form).toMatchObject({ kind: "callback", type: 9, data: { custom_id: buttonsOf(request)["Deny"], title: "Deny: why?" } });
  expect(JSON.stringify(form!.data!["components"])).toContain('"required":true');
  expect((await recordOf(runId)).status).toBe("awaiting_approval");

  const submit = bot.fake.interact(modalSubmit(buttonsOf(request)["Deny"]!, { reason: "staging is red" }, PEOPLE.bob));
  expect(await answered(submit)).toContain(`❌ <@${PEOPLE.bob.id}>: denied step:2`);
  expect(bot.fake.answeredPrivately(submit)).toBe(true);
  const record = await recordOf(runId);
  expect(record.status).toBe("denied");
  expect(record.approvals[0]).toMatchObject({ decision: "denied", by: [actor(PEOPLE.bob)], comment: "staging is red" });
  await bot.settled();
  expect(current(request).components).toEqual([]);
  expect(textOf(current(request))).toMatch(new RegExp(`❌ Denied by <@${PEOPLE.bob.id}> at .*: staging is red`));
});

it("a manual step offers Done and Failed, and Failed asks what went wrong", async () => {
  const { runId, request } = await waitingRequest({ manual: true });
  expect(Object.keys(buttonsOf(request))).toEqual(["Done", "Failed"]);
  const i = click(request, "Failed", PEOPLE.bob);
  await until("the form", () => bot.fake.answersTo(i).length > 0);
  expect(bot.fake.answersTo(i)[0]).toMatchObject({ kind: "callback", type: 9, data: { title: "Mark the step failed" } });
  expect(JSON.stringify(bot.fake.answersTo(i)[0]!.data)).toContain("What went wrong?");
  const submit = bot.fake.interact(modalSubmit(buttonsOf(request)["Failed"]!, { reason: "error rate 12 %" }, PEOPLE.bob));
  await answered(submit);
  expect((await recordOf(runId)).approvals[0]).toMatchObject({ decision: "denied", comment: "error rate 12 %" });
});

it("a button of a run that has ended says there is nothing left to decide, and changes nothing", async () => {
  const { runId, request } = await waitingRequest();
  // As the person's client still shows it.
  const stale = structuredClone(request);
  await bot.runner.cancel(runId, { actor: actor(PEOPLE.alice), reason: "wrong branch" });
  const i = click(stale, "Approve", PEOPLE.bob);
  expect(await answered(i)).toBe(`run ${runId} already ended (cancelled); nothing to decide`);
  expect(bot.fake.answeredPrivately(i)).toBe(true);
  expect((await recordOf(runId)).status).toBe("cancelled");
  await bot.settled();
  expect(current(request).components).toEqual([]);

  // No form asking why for a Deny that cannot count.
  const deny = click(stale, "Deny", PEOPLE.bob);
  expect(await answered(deny)).toBe(`run ${runId} already ended (cancelled); nothing to decide`);
  expect(bot.fake.answersTo(deny).map((a) => a.type ?? a.kind)).toEqual([5, "edit"]);
});

it("on a critical SOP, Approve asks first: Cancel changes nothing, Approve in the question approves", async () => {
  const { runId, request } = await waitingRequest({ priority: "critical" });
  const askFirst = buttonsOf(request)["Approve"]!;
  expect(askFirst.startsWith("sop?approve|")).toBe(true);

  const asked = click(request, "Approve", PEOPLE.bob);
  const said = await answered(asked, "callback");
  expect(bot.fake.answersTo(asked)[0]).toMatchObject({ kind: "callback", type: 4, data: { flags: 64 } });
  expect(said).toContain("Are you sure?");
  expect(said).toContain(`This SOP is critical. Approve \`step:2\` of run ${runId.slice(0, 8)}?`);
  expect((await recordOf(runId)).status).toBe("awaiting_approval");
  // The private question as the person's client shows it, with its two buttons.
  const reply = bot.fake.answersTo(asked)[0]!.data!;
  const question = { ...(reply as unknown as FakeMessage), id: "1100000000000009999", channel_id: DISCORD.channel, edits: [] };
  expect(Object.keys(buttonsOf(question))).toEqual(["Approve", "Cancel"]);

  const cancelled = click(question, "Cancel", PEOPLE.bob);
  await until("the answer", () => bot.fake.answersTo(cancelled).length > 0);
  expect(bot.fake.answersTo(cancelled)[0]).toMatchObject({ kind: "callback", type: 7 });
  expect(bot.fake.answerText(cancelled)).toContain("Not approved; nothing changed.");
  expect((await recordOf(runId)).status).toBe("awaiting_approval");

  const confirmed = click(question, "Approve", PEOPLE.bob);
  expect(await answered(confirmed)).toContain(`✅ <@${PEOPLE.bob.id}>: approved step:2`);
  expect(bot.fake.answersTo(confirmed)[0]).toMatchObject({ kind: "callback", type: 6 });
  expect(bot.fake.answersTo(confirmed).at(-1)!.body!["components"]).toEqual([]);
  await until("the run to succeed", async () => (await recordOf(runId)).status === "success");
});

it("on a critical SOP with two runs waiting, /approve offers one button per run, and each asks first", async () => {
  await addShip(ws, { priority: "critical", maxConcurrent: 2 });
  bot = await DiscordBot.start(ws);
  const runs = [await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) }), await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) })];
  expect(runs.map((r) => r.status)).toEqual(["awaiting_approval", "awaiting_approval"]);
  const [picked, other] = runs.map((r) => r.run_id) as [string, string];

  const command = bot.fake.interact(slashCommand("approve", [option("name", "ship")], PEOPLE.bob));
  await until("the choice", () => bot.fake.answersTo(command).some((a) => a.kind === "followup"));
  expect(bot.fake.answeredPrivately(command)).toBe(true);
  // The private choice as the person's client shows it.
  const body = bot.fake.answersTo(command).find((a) => a.kind === "followup")!.body!;
  const choice = { ...(body as unknown as FakeMessage), id: "1100000000000009998", channel_id: DISCORD.channel, edits: [] };
  expect(textOf(choice)).toContain("2 runs of ship are waiting; which one?");
  const buttons = buttonsOf(choice);
  expect(Object.keys(buttons).sort()).toEqual([`Approve ${picked.slice(0, 8)}`, `Approve ${other.slice(0, 8)}`].sort());
  expect(Object.values(buttons).every((id) => id.startsWith("sop?approve|"))).toBe(true);

  const asked = click(choice, `Approve ${picked.slice(0, 8)}`, PEOPLE.bob);
  const said = await answered(asked, "callback");
  expect(bot.fake.answersTo(asked)[0]).toMatchObject({ kind: "callback", type: 4, data: { flags: 64 } });
  // The button is bound to the gate the list showed, and the question names it.
  expect(said).toBe(`Are you sure?\n2 runs of ship are waiting; which one?\nThis SOP is critical. Approve \`step:2\` of run ${picked.slice(0, 8)}?\n[Approve]\n[Cancel]`);
  expect((await recordOf(picked)).status).toBe("awaiting_approval");

  const reply = bot.fake.answersTo(asked)[0]!.data!;
  const question = { ...(reply as unknown as FakeMessage), id: "1100000000000009999", channel_id: DISCORD.channel, edits: [] };
  expect(await answered(click(question, "Approve", PEOPLE.bob))).toContain(`✅ <@${PEOPLE.bob.id}>: approved step:2 of run ${picked}`);
  await until("the picked run to succeed", async () => (await recordOf(picked)).status === "success");
  expect((await recordOf(other)).status).toBe("awaiting_approval");
});
