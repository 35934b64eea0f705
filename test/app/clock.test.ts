/**
 * Waits as long as real SOPs have them (an hour for an approval, backing off a chat outage)
 * pass in a test at once: everything that waits for time asks the runner's clock.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import { MemorySurface } from "../helpers/memory-surface.ts";
import { groupIsGone } from "../helpers/process-group.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
let runner: SopRunner | undefined;
let notifier: ChatNotifier | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await notifier?.close();
  await runner?.close();
  runner = notifier = undefined;
  await ws.remove();
});

const HOUR = 3600_000;

describe("a clock the test moves", () => {
  it("denies an approval after its hour-long timeout, and not a minute before", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"\n[approval]\ntimeout_secs = 3600\non_timeout = "deny"`, steps(
      "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
    ));
    const clock = new TestClock();
    runner = await ws.runner({ clock });
    const run = await runner.execute("gated", { actor: "api:alice" });
    expect(run.status).toBe("awaiting_approval");

    await clock.advance(HOUR - 60_000);
    expect((await runner.record(run.run_id)).status).toBe("awaiting_approval");
    await clock.advance(60_000);
    await until("the timeout", async () => (await runner!.record(run.run_id)).status === "timed_out");
    const record = await runner.record(run.run_id);
    expect(record.approvals[0]).toMatchObject({ decision: "timed_out" });
    expect(Date.parse(record.completed_at!) - Date.parse(record.started_at!)).toBe(HOUR);
  });

  it("times a run out at its timeout_secs while its command still runs here, and stops the command", async () => {
    await ws.addSop("slow", `description = "x"\nexecution_mode = "automatic"\ntimeout_secs = 3600`, steps(
      "**Migrate** [timeout: 7200]\n```sh\necho $$ > pid\nsleep 600\n```",
    ));
    const clock = new TestClock();
    runner = await ws.runner({ clock });
    const run = await runner.execute("slow", { actor: "api:alice", wait: false });
    const pidFile = join(ws.sopsDir, "slow", "pid");
    const pid = await until("the command to run", () => readFile(pidFile, "utf8").then((text) => Number(text) || undefined, () => undefined));

    await clock.advance(HOUR - 60_000);
    expect((await runner.record(run.run_id)).status).toBe("running");
    // The deadline's job lands in the process that is driving the run's command: it must not wait for it.
    await clock.advance(60_000);
    await until("the run timeout", async () => (await runner!.record(run.run_id)).status === "timed_out");
    const record = await runner.record(run.run_id);
    expect(Date.parse(record.completed_at!) - Date.parse(record.started_at!)).toBe(HOUR);
    expect(record.steps[0]).toMatchObject({ status: "cancelled", reason: "the run took longer than timeout_secs = 3600" });
    // The shell is its process group's leader: the group is the command and all it started.
    await until("the command to be stopped", () => groupIsGone(pid));
  });

  it("retries a notification that failed after the back-off, on the clock, and not before", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"`, steps(
      "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
    ));
    const clock = new TestClock();
    const deployment = await ws.deployment({ clock });
    runner = deployment.runner;
    const surface = new MemorySurface();
    surface.broken.add("C-DEFAULT");
    notifier = new ChatNotifier({ runner, ledger: deployment.ledger, surface, context: {}, log: silentLogger, clock });
    await notifier.start();
    const run = await runner.execute("gated", { actor: "api:alice" });
    await until("a failed delivery", () => surface.calls.some((c) => c.endsWith("(failed)")));
    await until("the failure to be handled", () => notifier!.health().failing);
    await notifier.idle();
    const tried = surface.calls.length;
    // The channel is back, but the retry waits its back-off (a second or more) on the clock.
    surface.broken.delete("C-DEFAULT");
    await clock.advance(999);
    expect(surface.calls.length).toBe(tried);
    await clock.advance(5 * 60_000);
    await until("the request", () => surface.find("Approval needed"));
    expect(surface.text(surface.find("Approval needed"))).toContain(run.run_id);
  });
});
