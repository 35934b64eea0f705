/**
 * The whole Slack story against `sop serve` in its own process: a message starts a deploy, the
 * channel follows it, one approval by /approve, the other by a button, the summary at the end,
 * and the audit file on disk names both approvers.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buttonsOf, FakeSlack, SlackUser, textOf, type Person } from "../helpers/fake-slack.ts";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace } from "../helpers/workspace.ts";

const SECRET = "e2e-signing-secret";
const CHANNEL = "C0DEPLOYS";
const alice: Person = { id: "UALICE", channel: CHANNEL };
const bob: Person = { id: "UBOB", channel: CHANNEL };
const carol: Person = { id: "UCAROL", channel: CHANNEL };

interface Health { chat: { slack: { connection: string; notifications: { pending: number } } } }

let ws: Workspace;
let fake: FakeSlack;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  fake = await FakeSlack.start();
});

afterEach(async () => {
  if (serve) expect(await serve.stop()).toBe(0);
  serve = undefined;
  await fake.close();
  await ws.remove();
});

describe("Slack, end to end", () => {
  it("deploy:1.2.3 in a channel → progress, two approvals (/approve, then a button) → success, summary, and both approvers in the audit file", async () => {
    await ws.addExample("deploy-production");
    serve = await ServeProcess.start(ws, { SLACK_BOT_TOKEN: "xoxb-e2e", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_CHANNEL: CHANNEL });
    await until("Slack connected", async () => (await serve!.api<Health>("GET", "/healthz")).json.chat.slack.connection === "connected");
    const slack = new SlackUser(fake, { eventsUrl: `${serve.url}/slack/events`, signingSecret: SECRET });

    const typed = await slack.message("deploy:1.2.3", carol);
    expect(typed).toMatchObject({ status: 200, body: "" });
    const answer = await until("the answer in the thread", () => fake.messages.find((m) => m.thread_ts === typed.ts));
    expect(textOf(answer)).toMatch(/Started deploy-production 1\.0\.0, run [0-9a-f]{8}/);
    const runId = /run `([0-9a-f-]{36})`/.exec(textOf(answer))![1]!;

    const progress = await until("the progress message", () => fake.find(CHANNEL, `deploy-production 1.0.0 · run ${runId.slice(0, 8)}`));
    const first = await until("the first approval request", () => fake.find(CHANNEL, "Approval needed"), 15_000);
    expect(textOf(first)).toContain("`step:3` — step 3 Deploy to Staging");
    expect(textOf(first)).toContain("`version=1.2.3`");
    expect(textOf(first)).toContain(`<${serve.url}/runs/${runId}|Open the run in the web UI>`);

    const approved = await slack.command("/approve", "deploy-production staging looks fine", alice);
    expect(approved).toMatchObject({ status: 200, body: "" });
    const [reply] = await until("the /approve answer", () => fake.responsesTo(approved.responseUrl).length > 0 && fake.responsesTo(approved.responseUrl));
    expect(textOf(reply!)).toContain(`<@UALICE>: approved step:3 of run ${runId}`);
    await until("the first request edited", () => first.updates > 0 && buttonsOf(first).length === 0 && textOf(first).includes("Approved by <@UALICE>"));

    const second = await until("the second approval request", () => fake.messagesIn(CHANNEL).find((m) => m !== first && textOf(m).includes("Approval needed")), 15_000);
    expect(textOf(second)).toContain("`step:5` — step 5 Deploy to Production");
    const click = await slack.click(second, `sop|approve|${runId}|step:5`, bob);
    expect(click).toMatchObject({ status: 200, body: "" });

    const summary = await until("the audit summary", () => fake.find(CHANNEL, "Audit summary"), 15_000);
    expect(textOf(summary)).toContain(`deploy-production 1.0.0 · run ${runId.slice(0, 8)} success`);
    expect(textOf(summary)).toContain("5 completed, 0 skipped, 0 failed (of 5)");
    expect(textOf(summary)).toContain("`step:3` approved by <@UALICE>; `step:5` approved by <@UBOB>");
    await until("the progress message to show success", () => textOf(progress).includes("*success*"));
    expect(textOf(second)).toMatch(/Approved by <@UBOB>/);
    expect(fake.threadOf(progress)).toHaveLength(5);

    // The file is rewritten as the run goes; the summary message may come before its last write.
    const [audit] = await until("the audit file of the finished run", async () => {
      const files = await ws.auditFiles("deploy-production").catch(() => []);
      return files[0]?.status === "success" && files;
    });
    expect(audit).toMatchObject({
      run_id: runId, status: "success", requested_by: "slack:UCAROL", vars: { version: "1.2.3" },
      trigger: { type: "command", text: "deploy:1.2.3", source: `slack:${CHANNEL}` },
    });
    expect(audit!.approvals.map((a) => [a.gate, a.decision, a.by])).toEqual([
      ["step:3", "approved", ["slack:UALICE"]],
      ["step:5", "approved", ["slack:UBOB"]],
    ]);
    expect(audit!.approvals[0]?.comment).toBe("staging looks fine");
    await until("nothing left to deliver", async () => (await serve!.api<Health>("GET", "/healthz")).json.chat.slack.notifications.pending === 0);
  });
});
