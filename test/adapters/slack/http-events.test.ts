/** Slack over HTTP: who may talk to /slack/events, messages that start runs, commands, and notifications through a 429. */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ChatSet } from "../../../src/main/chat.ts";
import { encode, sendSigned, signature, slashCommand, textOf } from "../../helpers/fake-slack.ts";
import { until } from "../../helpers/until.ts";
import { steps, type Workspace } from "../../helpers/workspace.ts";
import { alice, bob, CHANNEL, SIGNING_SECRET, startSlack, type SlackSetup } from "./slack-harness.ts";

const SHIP = steps("**Build**\n```sh\necho \"built $SOP_VAR_VERSION\"\n```", "**Ship** [requires_approval: true]\n```sh\necho shipped\n```");
const TRIGGERED = `description = "Deploy by message"\nversion = "1.0.0"\npriority = "high"\nmax_concurrent = 5\n[vars]\nversion = "0.0.0"\n[[triggers]]\ntype = "command"\npattern = "^deploy:(?<version>\\\\S+)$"\ncapture_groups = true`;

const sops = async (ws: Workspace) => ws.addSop("deploy", TRIGGERED, SHIP);

let s: SlackSetup | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function waitingRun(setup: SlackSetup): Promise<string> {
  const record = await setup.runner.execute("deploy", { actor: "slack:UALICE" });
  expect(record.status).toBe("awaiting_approval");
  return record.run_id;
}

describe("POST /slack/events", () => {
  it("turns away a forged signature and a replayed (stale) request with 401, and nothing happens", async () => {
    s = await startSlack({ sops });
    const runId = await waitingRun(s);
    const responseUrl = s.fake.responseUrl();
    const { contentType, body } = encode("command", slashCommand("/approve", "deploy", bob, responseUrl));

    const forged = await sendSigned(s.eventsUrl, SIGNING_SECRET, contentType, body, { signature: signature("not-the-secret", body, Math.floor(Date.now() / 1000)) });
    expect(forged).toEqual({ status: 401, body: "" });
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 360;
    const stale = await sendSigned(s.eventsUrl, SIGNING_SECRET, contentType, body, { timestamp: sixMinutesAgo, signature: signature(SIGNING_SECRET, body, sixMinutesAgo) });
    expect(stale).toEqual({ status: 401, body: "" });
    const tampered = await sendSigned(s.eventsUrl, SIGNING_SECRET, contentType, body.replace("deploy", "other"), { signature: signature(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)) });
    expect(tampered.status).toBe(401);

    // The same request, signed properly, is what works.
    const genuine = await sendSigned(s.eventsUrl, SIGNING_SECRET, contentType, body);
    expect(genuine).toEqual({ status: 200, body: "" });
    await until("the approval", async () => (await s!.runner.record(runId)).status === "success");
    expect(s.fake.responsesTo(responseUrl)).toHaveLength(1);
    expect((await s.runner.record(runId)).approvals[0]?.by).toEqual(["slack:UBOB"]);
  });

  it("starts a run from a matching message, with the captured version, and answers in its thread with the plan", async () => {
    s = await startSlack({ sops });
    // Not requests: an edit, the bot's own message, a message that matches nothing.
    expect((await s.user.message("deploy:9.9.9", alice, { subtype: "message_changed" })).status).toBe(200);
    expect((await s.user.message("deploy:6.6.6", { id: "UBOT", channel: CHANNEL })).status).toBe(200);
    expect((await s.user.message("deploy now please", alice)).status).toBe(200);

    const typed = await s.user.message("deploy:1.2.3", alice);
    expect(typed).toMatchObject({ status: 200, body: "" });
    const reply = await until("the thread reply", () => s!.fake.messages.find((m) => m.thread_ts === typed.ts));
    expect(reply.channel).toBe(CHANNEL);
    const text = textOf(reply);
    expect(text).toMatch(/▶️ Started deploy 1\.0\.0, run [0-9a-f]{8}/);
    expect(text).toContain("▶️ 1. Build");
    expect(text).toContain("⏳ 2. Ship");

    const runs = await s.runner.runs({ sop: "deploy" });
    expect(runs).toHaveLength(1);
    const record = await s.runner.record(runs[0]!.id);
    expect(record.vars["version"]).toBe("1.2.3");
    expect(record.requested_by).toBe("slack:UALICE");
    expect(record.trigger).toMatchObject({ type: "command", text: "deploy:1.2.3", source: `slack:${CHANNEL}` });
    expect(text).toContain(`run \`${record.run_id}\``);
  });

  it("answers a reply typed in a thread in that same thread", async () => {
    s = await startSlack({ sops });
    const typed = await s.user.message("deploy:2.0.0", alice, { thread_ts: "1699999999.000001" });
    const reply = await until("the thread reply", () => s!.fake.messages.find((m) => m.thread_ts === "1699999999.000001"));
    expect(textOf(reply)).toContain("Started deploy");
    expect(s.fake.messages.find((m) => m.thread_ts === typed.ts)).toBeUndefined();
  });

  it("answers in the thread even when Slack answers the reply's first post with 429 (Retry-After: 1)", async () => {
    s = await startSlack({
      sops,
      prepare: (fake) => fake.failNext("chat.postMessage", 1, { status: 429, retryAfter: 1 }, (args) => String(args["text"]).includes("Started deploy")),
    });
    const typed = await s.user.message("deploy:1.2.3", alice);
    expect(typed).toMatchObject({ status: 200, body: "" });
    const reply = await until("the thread reply", () => s!.fake.messages.find((m) => m.thread_ts === typed.ts), 8000);
    expect(textOf(reply)).toMatch(/▶️ Started deploy 1\.0\.0, run [0-9a-f]{8}/);
    const answers = s.fake.callsOf("chat.postMessage").filter((c) => c.args["thread_ts"] === typed.ts);
    expect(answers.map((c) => c.failed)).toEqual(["429", undefined]);
    expect(s.logs.filter((l) => l.msg.includes("will retry")).map((l) => l.msg)).toEqual([
      `Slack: the answer to a message in ${CHANNEL}: not delivered, will retry: chat.postMessage to ${CHANNEL}: rate limited by Slack: retry after 1 s`,
    ]);
    expect(await s.runner.runs({ sop: "deploy" })).toHaveLength(1);
  });

  it("starts one run, and answers once, when Slack delivers the same message again (X-Slack-Retry-Num)", async () => {
    s = await startSlack({ sops });
    const typed = await s.user.message("deploy:1.2.3", alice);
    expect(await s.user.redeliver(typed.payload)).toMatchObject({ status: 200, body: "" });
    expect(await s.user.redeliver(typed.payload, 2)).toMatchObject({ status: 200, body: "" });
    await s.adapter.idle();
    expect(await s.runner.runs({ sop: "deploy" })).toHaveLength(1);
    expect(s.fake.messages.filter((m) => m.thread_ts === typed.ts)).toHaveLength(1);

    // Another message with the same text is another request.
    const again = await s.user.message("deploy:1.2.3", alice);
    await until("the second answer", () => s!.fake.messages.find((m) => m.thread_ts === again.ts));
    expect(await s.runner.runs({ sop: "deploy" })).toHaveLength(2);
  });

  it("still answers in the thread when starting the run fails unexpectedly", async () => {
    s = await startSlack({ sops });
    // The run cannot be stored: where its folder should be is a file.
    await rm(join(s.ws.dataDir, "runs"), { recursive: true, force: true });
    await writeFile(join(s.ws.dataDir, "runs"), "");
    const typed = await s.user.message("deploy:1.2.3", alice);
    const reply = await until("the thread reply", () => s!.fake.messages.find((m) => m.thread_ts === typed.ts));
    expect(textOf(reply)).toMatch(/^\*❌ could not start: something went wrong in the bot/);
    expect(textOf(reply)).not.toContain("cannot write run state");
    expect(s.logs.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([expect.stringMatching(/^Slack: a message trigger failed: cannot write run state /)]);
  });

  it("answers /sop commands and a mistyped command, ephemeral unless the channel should see it", async () => {
    s = await startSlack({ sops });
    const list = await s.user.command("/sop", "list", alice);
    expect(list).toMatchObject({ status: 200, body: "" });
    const [listed] = await until("the list", () => s!.fake.responsesTo(list.responseUrl).length > 0 && s!.fake.responsesTo(list.responseUrl));
    expect(listed).toMatchObject({ response_type: "ephemeral" });
    expect(textOf(listed!)).toContain("`deploy` 1.0.0 (high) — Deploy by message · command /^deploy:(?&lt;version&gt;\\S+)$/");

    const run = await s.user.command("/sop", "run deploy version=3.1.4", alice);
    const [started] = await until("the start", () => s!.fake.responsesTo(run.responseUrl).length > 0 && s!.fake.responsesTo(run.responseUrl));
    // Only to the caller: the variables typed may be secret; the progress message is the public trace.
    expect(started).toMatchObject({ response_type: "ephemeral" });
    expect(textOf(started!)).toMatch(/Started deploy 1\.0\.0, run [0-9a-f]{8}/);

    for (const [command, text, says] of [
      ["/approve", "", "usage: /approve NAME [RUN_ID] [comment]"],
      ["/sop", "destroy everything", 'unknown /sop command "destroy"; try /sop help'],
      ["/deny", "nosuch", 'unknown SOP "nosuch"'],
    ] as const) {
      const sent = await s.user.command(command, text, alice);
      expect(sent).toMatchObject({ status: 200, body: "" });
      const [answer] = await until(`the answer to ${command} ${text}`, () => s!.fake.responsesTo(sent.responseUrl).length > 0 && s!.fake.responsesTo(sent.responseUrl));
      expect(answer).toMatchObject({ response_type: "ephemeral" });
      expect(textOf(answer!)).toContain(says);
    }
  });
});

describe("Slack notifications", () => {
  it("waits out a 429 from chat.postMessage, then posts everything, once, in order", async () => {
    s = await startSlack({ sops, prepare: (fake) => fake.failNext("chat.postMessage", 1, { status: 429, retryAfter: 1 }) });
    const runId = await waitingRun(s);
    await until("the approval request", () => s!.fake.find(CHANNEL, "Approval needed"), 8000);
    await s.adapter.idle();

    const posts = s.fake.callsOf("chat.postMessage");
    expect(posts[0]?.failed).toBe("429");
    const progressTitle = new RegExp(`^\\*deploy 1\\.0\\.0 · run ${runId.slice(0, 8)}\\*`);
    // The refused post is the first one delivered after the pause, and nothing is posted twice.
    expect(textOf(posts[0]!.args)).toMatch(progressTitle);
    expect(textOf(posts[1]!.args)).toMatch(progressTitle);
    const top = s.fake.messagesIn(CHANNEL).map((m) => textOf(m).split("\n")[0]);
    expect(top).toEqual([expect.stringMatching(progressTitle), "*Approval needed: deploy 1.0.0*"]);
    expect(posts.every((p) => p.args["unfurl_links"] === "false")).toBe(true);
    const warned = s.logs.filter((l) => l.level === "warn" && l.msg.includes("rate limited by Slack: retry after 1 s"));
    expect(warned).toHaveLength(1);
    expect(s.adapter.health().notifications).toEqual({ pending: 0 });
  });

  it("posts to the SOP's [notify] channels, and still edits a message posted to a channel given by name (chat.update wants the id)", async () => {
    s = await startSlack({ sops: async (ws) => ws.addSop("deploy", `${TRIGGERED}\n[notify]\nslack = ["#deploys", "C0SEC"]`, SHIP) });
    await waitingRun(s);
    await s.runner.approve("deploy", { actor: "slack:UBOB", wait: true });
    await s.adapter.idle();
    expect(s.fake.messagesIn(CHANNEL)).toEqual([]);
    for (const channel of ["CDEPLOYS", "C0SEC"]) {
      const request = s.fake.find(channel, "Approval")!;
      expect(request.updates).toBeGreaterThan(0);
      expect(textOf(request)).toMatch(/Approved by <@UBOB>/);
      expect(s.fake.find(channel, "Audit summary")).toBeDefined();
    }
    expect(s.fake.callsOf("chat.update").filter((c) => c.failed || c.args["channel"] === "#deploys")).toEqual([]);
    expect(s.adapter.health().notifications).toEqual({ pending: 0 });
  });

  it("posts step details in the thread of the progress message and the audit summary when the run ends", async () => {
    s = await startSlack({ sops });
    const runId = await waitingRun(s);
    await s.runner.approve("deploy", { actor: "slack:UBOB", wait: true });
    await s.adapter.idle();
    const progress = s.fake.messagesIn(CHANNEL)[0]!;
    expect(textOf(progress)).toContain("*success*");
    expect(s.fake.threadOf(progress).map((m) => textOf(m).split("\n")[0])).toEqual([
      expect.stringMatching(/✅ Step 1 Build: success/),
      expect.stringMatching(/✅ Step 2 Ship: success/),
    ]);
    expect(textOf(s.fake.threadOf(progress)[0]!)).toContain("built 0.0.0");
    const summary = s.fake.find(CHANNEL, "Audit summary")!;
    expect(textOf(summary)).toContain(`Audit summary: deploy 1.0.0 · run ${runId.slice(0, 8)} success`);
    expect(textOf(summary)).toContain("`step:2` approved by <@UBOB>");
    expect(summary.text).toBe(`deploy run ${runId.slice(0, 8)} ended: success`);
  });
  it("posts a deleted approval request again, and keeps one channel that fails for good from holding back the other", async () => {
    s = await startSlack({
      sops: async (ws) => ws.addSop("deploy", `${TRIGGERED}\n[notify]\nslack = ["C0GONE", "${CHANNEL}"]`, SHIP),
      prepare: (fake) => fake.failAlways("chat.postMessage", { error: "channel_not_found" }, (args) => args["channel"] === "C0GONE"),
    });
    const runId = await waitingRun(s);
    const request = await until("the approval request", () => s!.fake.find(CHANNEL, "Approval needed"));
    await until("the cause in /healthz", () => s!.adapter.health().notifications.failing);
    expect(s.adapter.health().notifications.failing).toBe("chat.postMessage to C0GONE: channel_not_found: check the channel id in SLACK_CHANNEL or [notify] slack, and that the bot is in it");

    s.fake.deleteMessage(request);
    await s.runner.approve("deploy", { actor: "slack:UBOB", wait: true });
    const again = await until("the request posted again", () => s!.fake.find(CHANNEL, /^\*Approval: deploy[\s\S]*Approved by <@UBOB>/));
    expect(again.ts).not.toBe(request.ts);
    expect(s.fake.callsOf("chat.update").some((c) => c.args["ts"] === request.ts)).toBe(true);
    await until("the audit summary", () => s!.fake.find(CHANNEL, `Audit summary: deploy 1.0.0 · run ${runId.slice(0, 8)} success`));
    expect(s.fake.messagesIn(CHANNEL).filter((m) => textOf(m).startsWith("*Approval"))).toEqual([again]);
    expect(s.fake.messagesIn("C0GONE")).toEqual([]);
  });
});

describe("Slack outage in HTTP mode", () => {
  it("keeps the bot up while auth.test fails, shows the cause in /healthz's chat status, and recovers", async () => {
    s = await startSlack({ sops, connected: false, prepare: (fake) => fake.failAlways("auth.test", { status: 500 }) });
    const chat = new ChatSet([s.adapter], undefined);
    await until("the error", () => s!.adapter.health().connection.startsWith("error"));
    expect(chat.status().slack).toMatchObject({ connection: "error: Slack answered HTTP 500" });
    await until("a few attempts", () => s!.fake.callsOf("auth.test").length >= 3);
    // Meanwhile Slack's requests are still acked, and the bot keeps running.
    for (let i = 0; i < 2; i++) expect((await s.user.command("/sop", "list", alice)).status).toBe(200);
    expect(s.logs.filter((l) => l.msg.includes("acknowledged and dropped until the bot is connected")).map((l) => l.msg)).toEqual([
      "Slack: requests from Slack are acknowledged and dropped until the bot is connected: error: Slack answered HTTP 500",
    ]);
    // The people who typed a command or clicked hear why nothing happens (response_url needs no token).
    const typed = await s.user.command("/approve", "deploy", bob);
    const clicked = await s.user.clickButton({ type: "button", action_id: "sop|approve|0b6f7c1e-1111-4222-8333-944445555666|step:2", text: "Approve" }, bob, { channel: CHANNEL, ts: "1700000000.000001" });
    for (const sent of [typed, clicked]) {
      expect(sent).toMatchObject({ status: 200, body: "" });
      const [told] = await until("why nothing happens", () => s!.fake.responsesTo(sent.responseUrl).length > 0 && s!.fake.responsesTo(sent.responseUrl));
      expect(told).toMatchObject({ response_type: "ephemeral", replace_original: false });
      expect(textOf(told!)).toBe("*sop-runner is not connected to Slack right now (Slack answered HTTP 500); try again in a moment*");
    }

    s.fake.heal("auth.test");
    await until("connected", () => s!.adapter.health().connection === "connected");
    expect(s.logs.filter((l) => l.level === "warn" && l.msg.includes("not connected, retrying"))).toHaveLength(1);
    expect(s.logs.filter((l) => l.msg === "Slack: connected (HTTP at POST /slack/events)")).toHaveLength(1);
    const later = await s.user.command("/sop", "list", alice);
    const [answer] = await until("the answer", () => s!.fake.responsesTo(later.responseUrl).length > 0 && s!.fake.responsesTo(later.responseUrl));
    expect(textOf(answer!)).toContain("`deploy`");
  });
});
