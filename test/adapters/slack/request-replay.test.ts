/**
 * Slack over HTTP: a signed request runs once however often it is posted, in one process or two
 * on one Redis; one dated more than five minutes ahead is refused; a forged copy uses up nothing.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { rememberForMs, tooFarAhead } from "../../../adapters/slack/request-freshness.ts";
import { type SopRunner } from "../../../src/app/sop-runner.ts";
import { openDeployment } from "../../../src/compose/open-deployment.ts";
import { encode, FakeSlack, sendSigned, signature, slashCommand, textOf, type Delivery, type Person } from "../../helpers/fake-slack.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../../helpers/redis.ts";
import { until } from "../../helpers/until.ts";
import { steps, Workspace } from "../../helpers/workspace.ts";
import { alice, bob, SIGNING_SECRET, startBot, startSlack, type LogLine, type SlackSetup } from "./slack-harness.ts";

const GATED = steps("**Build**\n```sh\necho built\n```", "**Ship** [requires_approval: true]\n```sh\necho shipped\n```");
const sops = async (ws: Workspace) => ws.addSop("gate7", `description = "Gated deploy"\nversion = "1.0.0"\nmax_concurrent = 5`, GATED);

const REPEAT_LINE = "Slack: a request was answered and not run: the same signed request came before (a replay, or a proxy that sent it twice)";

/** The adapter's clock: fixed near the real time (Bolt reads the real one for the past), moved by hand. */
let clock = 0;
const now = () => clock;
const seconds = (ms: number) => Math.floor(ms / 1000);

let s: SlackSetup | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** One slash command as Slack would sign it, dated `at` (seconds; default the adapter's now), to post as often as wanted. */
interface Signed {
  contentType: string;
  body: string;
  timestamp: number;
  signature: string;
  responseUrl: string;
}

function signedCommand(fake: FakeSlack, command: string, text: string, who: Person, at = seconds(clock)): Signed {
  const responseUrl = fake.responseUrl();
  const { contentType, body } = encode("command", slashCommand(command, text, who, responseUrl));
  return { contentType, body, timestamp: at, signature: signature(SIGNING_SECRET, body, at), responseUrl };
}

function post(eventsUrl: string, r: Signed, forge: { body?: string; signature?: string } = {}): Promise<Delivery> {
  return sendSigned(eventsUrl, SIGNING_SECRET, r.contentType, forge.body ?? r.body, { timestamp: r.timestamp, signature: forge.signature ?? r.signature });
}

async function runsOf(runner: SopRunner): Promise<number> {
  return (await runner.runs({ sop: "gate7" })).length;
}

const linesSaying = (logs: LogLine[], text: string) => logs.filter((l) => l.msg.includes(text)).map((l) => l.msg);

describe("a signed request posted again", () => {
  it("starts one run when the same signed `/sop run gate7` is posted three times, and answers the repeats with an empty 200", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const run = signedCommand(s.fake, "/sop", "run gate7", alice);
    for (let i = 0; i < 3; i++) expect(await post(s.eventsUrl, run)).toEqual({ status: 200, body: "" });

    const [answer] = await until("the answer", () => s!.fake.responsesTo(run.responseUrl).length > 0 && s!.fake.responsesTo(run.responseUrl));
    expect(textOf(answer!)).toMatch(/Started gate7 1\.0\.0, run [0-9a-f]{8}/);
    await s.adapter.idle();
    expect(await runsOf(s.runner)).toBe(1);
    expect(s.fake.responsesTo(run.responseUrl)).toHaveLength(1);
    expect(linesSaying(s.logs, "not run")).toEqual([REPEAT_LINE]);
  });

  it("approves once when the same signed /approve is posted twice, and the second says nothing", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const runId = (await s.runner.execute("gate7", { actor: "slack:UALICE" })).run_id;
    const approve = signedCommand(s.fake, "/approve", "gate7", bob);
    expect(await post(s.eventsUrl, approve)).toEqual({ status: 200, body: "" });
    expect(await post(s.eventsUrl, approve)).toEqual({ status: 200, body: "" });

    await until("the approval", async () => (await s!.runner.record(runId)).status === "success");
    await s.adapter.idle();
    expect((await s.runner.record(runId)).approvals).toEqual([expect.objectContaining({ by: ["slack:UBOB"] })]);
    expect(s.fake.responsesTo(approve.responseUrl)).toHaveLength(1);
  });

  it("burns nothing with a forged copy: after a tampered body and a wrong key carrying the real request's date, the real request still runs, once", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const run = signedCommand(s.fake, "/sop", "run gate7", alice);
    // The signature travels in the clear: an attacker can copy it onto another body, or sign with a guessed key.
    expect(await post(s.eventsUrl, run, { body: run.body.replace("gate7", "gate8") })).toEqual({ status: 401, body: "" });
    expect(await post(s.eventsUrl, run, { signature: signature("not-the-secret", run.body, run.timestamp) })).toEqual({ status: 401, body: "" });
    expect(await post(s.eventsUrl, run, { signature: "" })).toEqual({ status: 401, body: "" });
    expect(await runsOf(s.runner)).toBe(0);

    expect(await post(s.eventsUrl, run)).toEqual({ status: 200, body: "" });
    await until("the answer", () => s!.fake.responsesTo(run.responseUrl).length > 0);
    expect(await post(s.eventsUrl, run)).toEqual({ status: 200, body: "" });
    await s.adapter.idle();
    expect(await runsOf(s.runner)).toBe(1);
    expect(s.fake.responsesTo(run.responseUrl)).toHaveLength(1);
  });
});

describe("a signed request that cannot be checked for repeats", () => {
  it("runs nothing while the ledger fails, tells the person to try again, and runs the next request once it answers", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const claim = vi.spyOn(s.ledger, "claim").mockRejectedValue(new Error("Redis is down"));
    const first = signedCommand(s.fake, "/sop", "run gate7", alice);
    expect(await post(s.eventsUrl, first)).toEqual({ status: 200, body: "" });
    const [told] = await until("why nothing happens", () => s!.fake.responsesTo(first.responseUrl).length > 0 && s!.fake.responsesTo(first.responseUrl));
    expect(told).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(told!)).toBe("*sop-runner could not check this request, so nothing was done; try again in a moment*");
    expect(await post(s.eventsUrl, signedCommand(s.fake, "/sop", "run gate7", alice))).toEqual({ status: 200, body: "" });

    claim.mockRestore();
    const again = signedCommand(s.fake, "/sop", "run gate7", alice);
    expect(await post(s.eventsUrl, again)).toEqual({ status: 200, body: "" });
    await until("the start", () => s!.fake.responsesTo(again.responseUrl).length > 0);
    await s.adapter.idle();
    expect(await runsOf(s.runner)).toBe(1);
    expect(linesSaying(s.logs, "Slack: requests are")).toEqual([
      "Slack: requests are answered and not run: cannot tell whether they ran before: Redis is down",
      "Slack: requests are checked for repeats again",
    ]);
  });
});

describe("a signed request dated ahead", () => {
  it("refuses with 401 a signed /approve dated ten minutes ahead, approves nothing, and says why once", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const runId = (await s.runner.execute("gate7", { actor: "slack:UALICE" })).run_id;
    const ahead = signedCommand(s.fake, "/approve", "gate7", bob, seconds(clock) + 600);
    expect(await post(s.eventsUrl, ahead)).toEqual({ status: 401, body: "" });
    expect(await post(s.eventsUrl, ahead)).toEqual({ status: 401, body: "" });

    expect((await s.runner.record(runId)).status).toBe("awaiting_approval");
    expect(s.fake.responsesTo(ahead.responseUrl)).toEqual([]);
    expect(linesSaying(s.logs, "refused")).toEqual([
      "Slack: a request was refused (401): X-Slack-Request-Timestamp is more than 5 minutes in the future; if Slack's requests are all refused, check this machine's clock",
    ]);

    // Refused, it used up nothing: five minutes on, the same request is within the window and counts, once.
    clock += 5 * 60_000;
    expect(await post(s.eventsUrl, ahead)).toEqual({ status: 200, body: "" });
    await until("the approval", async () => (await s!.runner.record(runId)).status === "success");
    expect(await post(s.eventsUrl, ahead)).toEqual({ status: 200, body: "" });
    await s.adapter.idle();
    expect((await s.runner.record(runId)).approvals).toHaveLength(1);
  });

  it("takes a request dated four minutes ahead, as Bolt takes one four minutes old, and runs nothing when it comes again eight minutes later", async () => {
    clock = Date.now();
    s = await startSlack({ sops, now });
    const run = signedCommand(s.fake, "/sop", "run gate7", alice, seconds(clock) + 240);
    expect(await post(s.eventsUrl, run)).toEqual({ status: 200, body: "" });
    await until("the answer", () => s!.fake.responsesTo(run.responseUrl).length > 0);

    // Still fresh: dated four minutes before this new now.
    clock += 8 * 60_000;
    expect(await post(s.eventsUrl, run)).toEqual({ status: 200, body: "" });
    await s.adapter.idle();
    expect(await runsOf(s.runner)).toBe(1);
    expect(s.fake.responsesTo(run.responseUrl)).toHaveLength(1);
    expect(linesSaying(s.logs, "not run")).toEqual([REPEAT_LINE]);
  });
});

describe("the freshness window", () => {
  const at = 1_700_000_000;
  const nowMs = at * 1000 + 999;

  it.each([
    ["five minutes and a second ahead", String(at + 301)],
    ["ten minutes ahead", String(at + 600)],
  ])("refuses before Bolt reads it a request dated %s", (_what, header) => {
    expect(tooFarAhead(header, nowMs)).toMatch(/more than 5 minutes in the future/);
  });

  it.each<[string, string | string[] | undefined]>([
    ["now", String(at)],
    ["exactly five minutes ahead", String(at + 300)],
    ["long ago (Bolt refuses it)", String(at - 3600)],
    ["by no header (Bolt refuses it)", undefined],
    ["by a header that is no number (Bolt refuses it)", "soon"],
    ["by the header twice (Bolt refuses it)", [String(at + 600), String(at)]],
  ])("leaves to Bolt a request dated %s", (_what, header) => {
    expect(tooFarAhead(header, nowMs)).toBeUndefined();
  });

  it.each([
    ["dated now", at, 301_000],
    ["dated five minutes ahead", at + 300, 601_000],
    ["dated five minutes ago", at - 300, 1_000],
    ["already stale by our clock", at - 400, 0],
  ])("remembers a request %s until Bolt would find it stale, and five minutes more for clocks that disagree", (_what, timestamp, untilStaleMs) => {
    expect(rememberForMs(timestamp, at * 1000)).toBe(untilStaleMs + 300_000);
  });
});

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("a signed request posted to two `sop serve` processes on one Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const prefix = testPrefix();
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(() => deleteKeys(url!, prefix));

  async function serve(ws: Workspace, fake: FakeSlack, name: string) {
    const logsDir = join(ws.root, `logs-${name}`);
    await mkdir(logsDir, { recursive: true });
    const deployment = await openDeployment({ sopsDir: ws.sopsDir, logsDir, redisUrl: url!, env: ws.env({ SOP_REDIS_PREFIX: prefix }) });
    const { runner } = deployment;
    closers.push(() => runner.close());
    const bot = await startBot(deployment, fake, { now });
    closers.push(() => bot.close());
    return { runner, ...bot };
  }

  it("runs it once, whichever process it reaches, even when both get it at the same moment", async () => {
    clock = Date.now();
    const ws = await Workspace.create();
    closers.push(() => ws.remove());
    await sops(ws);
    const fake = await FakeSlack.start();
    closers.push(() => fake.close());
    const a = await serve(ws, fake, "a");
    const b = await serve(ws, fake, "b");

    const run = signedCommand(fake, "/sop", "run gate7", alice);
    const both = await Promise.all([post(a.eventsUrl, run), post(b.eventsUrl, run)]);
    expect(both).toEqual([{ status: 200, body: "" }, { status: 200, body: "" }]);
    await until("the answer", () => fake.responsesTo(run.responseUrl).length > 0);
    // And again, later, to the process that did not run it, and to the one that did.
    for (const bot of [a, b]) expect(await post(bot.eventsUrl, run)).toEqual({ status: 200, body: "" });

    await Promise.all([a.adapter.idle(), b.adapter.idle()]);
    expect(await runsOf(a.runner)).toBe(1);
    expect(fake.responsesTo(run.responseUrl)).toHaveLength(1);
    expect([...linesSaying(a.logs, "not run"), ...linesSaying(b.logs, "not run")]).toEqual([REPEAT_LINE, REPEAT_LINE]);
  });
});
