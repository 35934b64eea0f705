/** Slack in Socket Mode (SLACK_APP_TOKEN): commands and clicks arrive over a WebSocket and are acked on it. */
import { afterEach, describe, expect, it } from "vitest";
import { ChatSet } from "../../../src/main/chat.ts";
import { buttonsOf, textOf } from "../../helpers/fake-slack.ts";
import { until } from "../../helpers/until.ts";
import { steps, type Workspace } from "../../helpers/workspace.ts";
import { alice, bob, CHANNEL, startSlack, type SlackSetup } from "./slack-harness.ts";

const sops = async (ws: Workspace) =>
  ws.addSop("ship", `description = "Ship it"\nmax_concurrent = 5\n[approval]\nmin_approvals = 1\n[[triggers]]\ntype = "command"\npattern = "^ship it$"`,
    steps("**Ship** [requires_approval: true]\n```sh\necho shipped\n```", "**Tell**\n```sh\necho told\n```"));

let s: SlackSetup | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function replyAt(setup: SlackSetup, responseUrl: string): Promise<Record<string, unknown>> {
  const [reply] = await until("the reply", () => setup.fake.responsesTo(responseUrl).length > 0 && setup.fake.responsesTo(responseUrl));
  return reply!;
}

describe("Slack Socket Mode", () => {
  it("connects with the app token, takes /approve and a button click over the socket, and acks each at once", async () => {
    s = await startSlack({ sops, socket: true });
    expect(s.fake.callsOf("apps.connections.open")[0]?.token).toBe("xapp-test");
    expect(s.fake.callsOf("auth.test")[0]?.token).toBe("xoxb-test");

    const first = await s.runner.execute("ship", { actor: "slack:UALICE" });
    const sent = await s.user.command("/approve", `ship ${first.run_id} go`, bob);
    expect(sent.ack).toMatchObject({ payload: {} });
    expect(textOf(await replyAt(s, sent.responseUrl))).toContain(`<@UBOB>: approved step:1 of run ${first.run_id}`);
    await until("the first run to end", async () => (await s!.runner.record(first.run_id)).status === "success");

    const second = await s.runner.execute("ship", { actor: "slack:UALICE" });
    await s.adapter.idle();
    const request = await until("the request", () => s!.fake.find(CHANNEL, new RegExp(`Approval needed[\\s\\S]*${second.run_id}`)));
    const click = await s.user.click(request, `sop|approve|${second.run_id}|step:1`, alice);
    expect(click.ack).toMatchObject({ payload: {} });
    expect(await replyAt(s, click.responseUrl)).toMatchObject({ response_type: "ephemeral", replace_original: false });
    await until("the second run to end", async () => (await s!.runner.record(second.run_id)).status === "success");
    await s.adapter.idle();
    expect(buttonsOf(request)).toEqual([]);
    expect(textOf(request)).toMatch(/Approved by <@UALICE>/);
  });

  it("starts one run when Slack redelivers a message's envelope (retry_attempt 1)", async () => {
    s = await startSlack({ sops, socket: true });
    const typed = await s.user.message("ship it", alice);
    expect(typed.ack).toMatchObject({ envelope_id: expect.any(String) });
    await s.user.redeliver(typed.payload);
    await s.adapter.idle();
    expect(await s.runner.runs({ sop: "ship" })).toHaveLength(1);
    const answers = s.fake.messages.filter((m) => m.thread_ts === typed.ts);
    expect(answers.map((m) => textOf(m).split("\n")[0])).toEqual([expect.stringMatching(/^\*▶️ Started ship/)]);
  });

  it("reconnects at once when Slack asks it to, and keeps working", async () => {
    s = await startSlack({ sops, socket: true });
    expect(s.fake.socketConnections).toBe(1);
    s.fake.refreshSockets();
    await until("a second connection", () => s!.fake.socketConnections === 2);
    await until("connected again", () => s!.adapter.health().connection === "connected");
    const sent = await s.user.command("/sop", "list", alice);
    expect(textOf(await replyAt(s, sent.responseUrl))).toContain("`ship`");
  });

  it("survives a rejected app token at start: health shows the cause, logged once, and it connects once Slack accepts it", async () => {
    s = await startSlack({ sops, socket: true, connected: false, prepare: (fake) => fake.failAlways("apps.connections.open", { error: "invalid_auth" }) });
    const chat = new ChatSet([s.adapter], undefined);
    await until("three refused attempts", () => s!.fake.callsOf("apps.connections.open").length >= 3);
    expect(chat.status().slack).toMatchObject({ connection: "error: invalid_auth: check SLACK_BOT_TOKEN (or SLACK_APP_TOKEN)" });
    // The rest keeps working: runs start and wait as ever.
    const run = await s.runner.execute("ship", { actor: "slack:UALICE" });
    expect(run.status).toBe("awaiting_approval");

    s.fake.heal("apps.connections.open");
    await until("connected", () => s!.adapter.health().connection === "connected");
    const warnings = s.logs.filter((l) => l.level === "warn" && l.msg.includes("invalid_auth"));
    expect(warnings.map((l) => l.msg)).toEqual(["Slack: not connected, retrying: invalid_auth: check SLACK_BOT_TOKEN (or SLACK_APP_TOKEN)"]);
    const sent = await s.user.command("/approve", "ship", bob);
    expect(textOf(await replyAt(s, sent.responseUrl))).toContain("approved step:1");
  });
});
