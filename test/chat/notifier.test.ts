/** Run notifications as a channel shows them: one progress message, requests edited in place, a summary, nothing lost. */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { parseButtonId } from "../../src/chat/button-id.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import { MemorySurface } from "../helpers/memory-surface.ts";
import { until } from "../helpers/until.ts";
import { steps, Workspace } from "../helpers/workspace.ts";
import type { MessageLedger } from "../../src/ports/message-ledger.ts";

const GATED = steps(
  "**Build**\n```sh\necho built; echo 'api_token=s3cr3t-value' >> \"$SOP_OUTPUT\"\n```",
  "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
);
const context = { runUrl: (id: string) => `http://bot.test/runs/${id}` };

let ws: Workspace;
let runner: SopRunner | undefined;
/** The bot's message ledger, beside its runner. */
let ledger: MessageLedger | undefined;
let notifier: ChatNotifier | undefined;

afterEach(async () => {
  await notifier?.close();
  await runner?.close();
  await ws.remove();
  notifier = undefined;
  runner = undefined;
});

async function start(surface: MemorySurface, toml = `description = "x"\n[notify]\nslack = ["C-OPS"]`, md = GATED) {
  ws = await Workspace.create();
  await ws.addSop("gated", toml, md);
  ({ runner, ledger } = await ws.deployment({ env: ws.env({ DEPLOY_TOKEN: "s3cr3t-value" }) }));
  notifier = new ChatNotifier({ runner, ledger, surface, context, log: silentLogger });
  await notifier.start();
  return runner;
}

describe("ChatNotifier", () => {
  it("posts one progress message, an approval request that is edited when decided, step details in the thread and the audit summary", async () => {
    const surface = new MemorySurface();
    const r = await start(surface);
    const run = await r.execute("gated", { actor: "slack:UALICE", vars: { ticket: "OPS-1" } });
    expect(run.status).toBe("awaiting_approval");
    await notifier!.idle();

    const progress = surface.find(/^gated \S+ · run /)!;
    expect(progress.channel).toBe("C-OPS");
    expect(surface.text(progress)).toMatch(/waiting for approval/);
    const request = surface.find("Approval needed: gated")!;
    expect(request.message.buttons.map((b) => b.label)).toEqual(["Approve", "Deny"]);
    expect(parseButtonId(request.message.buttons[0]!.id)).toEqual({ action: "approve", runId: run.run_id, checkpoint: "step:2" });
    expect(surface.text(request)).toContain("`ticket=OPS-1`");
    expect(surface.text(request)).toContain("anyone who may use the bot");
    expect(request.message.link?.url).toBe(`http://bot.test/runs/${run.run_id}`);

    await r.approve("gated", { actor: "slack:UBOB", comment: "go", wait: true });
    await notifier!.idle();
    const decided = surface.shown.find((m) => m.id === request.id)!;
    expect(decided.edits).toBeGreaterThan(0);
    expect(decided.message.buttons).toEqual([]);
    expect(surface.text(decided)).toMatch(/Approved by slack:UBOB at .* UTC: go/);

    const details = surface.shown.filter((m) => m.thread === progress.id).map((m) => m.message.title);
    expect(details).toEqual([expect.stringMatching(/Step 1 Build: success/), expect.stringMatching(/Step 2 Ship: success/)]);
    // Sealed into the audit chain a moment after it ended: the summary is edited to show the hash.
    await until("the summary shows the audit hash", () => surface.text(surface.find("Audit summary")).includes("audit hash"));
    const summary = surface.find("Audit summary")!;
    expect(surface.text(summary)).toContain("2 completed, 0 skipped, 0 failed (of 2)");
    expect(surface.text(summary)).toContain("`step:2` approved by slack:UBOB");
    // Every message is a new post once; afterwards only edits.
    expect(surface.shown.filter((m) => !m.thread).map((m) => m.message.title.split(":")[0])).toEqual([progress.message.title, "Approval", "Audit summary"]);
  });

  it("never shows a secret: variables named like one are masked and secret values redacted", async () => {
    const surface = new MemorySurface();
    const r = await start(surface, `description = "x"\n[secrets]\nnames = ["DEPLOY_TOKEN"]`, steps(
      "**Build**\n```sh\necho built; echo 'api_token=s3cr3t-value' >> \"$SOP_OUTPUT\"\n```",
      "**Check** [if: api_key != \"none\"]\n```sh\ntrue\n```",
      "**Ship** [requires_approval: true, if: api_key != \"none\"]\n```sh\necho shipped\n```",
    ));
    const run = await r.execute("gated", { actor: "slack:UALICE", vars: { note: "uses s3cr3t-value", api_key: "SUPERSECRET123" } });
    await notifier!.idle();
    await r.approve("gated", { actor: "slack:UBOB", runId: run.run_id, wait: true });
    await notifier!.idle();
    const all = surface.shown.map((m) => surface.text(m)).join("\n");
    expect(all).toContain("`api_token=***`");
    expect(all).toContain("`api_key=***`");
    // The conditions on api_key were explained (a plan line, a step reason) without its value.
    expect(all).toMatch(/api_key/);
    expect(all).not.toContain("s3cr3t-value");
    expect(all).not.toContain("SUPERSECRET123");
    expect(JSON.stringify(await r.record(run.run_id))).not.toContain("SUPERSECRET123");
  });

  it("waits out a rate limit and an outage, then delivers every message in order", async () => {
    const surface = new MemorySurface();
    surface.failures.push(150, "connection refused", "connection refused");
    const r = await start(surface);
    const run = await r.execute("gated", { actor: "slack:UALICE" });
    await until("the request is delivered", () => surface.find("Approval needed"), 15_000);
    await notifier!.idle();
    expect(notifier!.health()).toEqual({ pending: 0 });
    expect(surface.calls.filter((c) => c.endsWith("(failed)"))).toHaveLength(3);
    expect(surface.shown.filter((m) => !m.thread).map((m) => m.message.title)).toEqual([
      expect.stringContaining(`run ${run.run_id.slice(0, 8)}`), expect.stringContaining("Approval needed"),
    ]);
  });

  it("after a restart edits the messages it posted before instead of posting them again", async () => {
    const surface = new MemorySurface();
    const r = await start(surface);
    const run = await r.execute("gated", { actor: "slack:UALICE" });
    await notifier!.idle();
    const posted = surface.shown.length;
    await notifier!.close();
    await r.close();
    // Decided while the bot was away.
    ({ runner, ledger } = await ws.deployment());
    await runner.approve("gated", { actor: "slack:UBOB", runId: run.run_id, wait: true });
    notifier = new ChatNotifier({ runner, ledger, surface, context, log: silentLogger });
    await notifier.start();
    await until("the summary", () => surface.find("Audit summary"));
    await notifier.idle();
    const request = surface.find("Approval")!;
    expect(request.message.buttons).toEqual([]);
    expect(surface.text(request)).toContain("Approved by slack:UBOB");
    // The progress and the request were edited; only the step details and the summary are new.
    expect(surface.shown.length).toBe(posted + 2);
  });

  it("posts a deleted request again, and an archived channel does not keep the others waiting", async () => {
    const surface = new MemorySurface();
    surface.broken.add("C-GONE");
    const r = await start(surface, `description = "x"\n[notify]\nslack = ["C-GONE", "C-OPS"]`);
    const run = await r.execute("gated", { actor: "slack:UALICE" });
    await notifier!.idle();
    const first = surface.find("Approval needed", "C-OPS")!;
    expect(notifier!.health().failing).toBe("is_archived: C-GONE");
    surface.delete(first.id);

    await r.approve("gated", { actor: "slack:UBOB", runId: run.run_id, wait: true });
    await until("the summary in C-OPS", () => surface.find("Audit summary", "C-OPS"));
    await notifier!.idle();
    const again = surface.find("Approval", "C-OPS")!;
    expect(again.id).not.toBe(first.id);
    expect(surface.text(again)).toContain("Approved by slack:UBOB");
    expect(surface.shown.filter((m) => m.channel === "C-GONE")).toEqual([]);
  });

  it("edits the request when its deadline passes: timed out, denied by the on_timeout rule, no buttons", async () => {
    const surface = new MemorySurface();
    const r = await start(surface, `description = "x"\n[approval]\ntimeout_secs = 1\non_timeout = "deny"`);
    const run = await r.execute("gated", { actor: "slack:UALICE" });
    await notifier!.idle();
    expect(surface.text(surface.find("Approval needed"))).toMatch(/Deadline: .* UTC \(then denied automatically\)/);
    await until("the run times out", async () => (await r.record(run.run_id)).status === "timed_out" || undefined, 10_000);
    await until("the request shows the timeout", () => surface.text(surface.find("Approval")).includes("Timed out"));
    const request = surface.find("Approval")!;
    expect(request.message.buttons).toEqual([]);
    expect(surface.text(request)).toMatch(/⌛ Timed out at .* UTC: denied by its on_timeout rule/);
  });

  it("asks for a manual step with Done and Failed, and shows who marked it once answered", async () => {
    const surface = new MemorySurface();
    const r = await start(surface, `description = "x"\nexecution_mode = "automatic"`, steps("**Check the dashboard** [manual: true]\nLook at the error rate."));
    const run = await r.execute("gated", { actor: "slack:UALICE" });
    expect(run.status).toBe("awaiting_manual");
    // The store says "waiting" a moment before the bus tells the notifier.
    const request = await until("the request", () => surface.find("Manual step needed: gated"));
    await notifier!.idle();
    expect(request.message.buttons.map((b) => b.label)).toEqual(["Done", "Failed"]);
    expect(surface.text(request)).toContain("Who may answer: anyone who may use the bot");
    await r.approve("gated", { actor: "slack:UBOB", runId: run.run_id, wait: true });
    await notifier!.idle();
    const answered = surface.shown.find((m) => m.id === request.id)!;
    expect(answered.message.buttons).toEqual([]);
    expect(surface.text(answered)).toMatch(/✅ Marked done by slack:UBOB at .* UTC/);
  });

  it("stops between messages when closed, rather than finishing a slow platform's backlog first", async () => {
    const surface = new MemorySurface();
    const r = await start(surface, `description = "x"\n[notify]\nslack = ["C-ONE", "C-TWO"]`);
    await notifier!.close();
    await r.execute("gated", { actor: "slack:UALICE" });
    // A bot starting while the run waits has four messages to post (progress and request in each channel).
    surface.hold();
    notifier = new ChatNotifier({ runner: r, ledger: ledger!, surface, context, log: silentLogger });
    await notifier.start();
    await until("the first post to be under way", () => surface.held.length === 1);
    let closed = false;
    const closing = notifier.close().then(() => (closed = true));
    surface.release();
    // Close waits for the work under way: one that went on would begin its next call (held at the gate) and never return.
    await until("close to return, or another call to begin", () => closed || surface.held.length > 0);
    try {
      expect(surface.held).toHaveLength(0);
    } finally {
      surface.releaseAll();
    }
    await closing;
    // Only the post under way when it closed was finished, and nothing else was begun.
    expect(surface.shown).toHaveLength(1);
    expect(surface.calls).toHaveLength(1);
    expect(surface.held).toHaveLength(0);
  });
});
