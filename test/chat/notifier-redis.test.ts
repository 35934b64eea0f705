/** Two bot processes on one Redis deployment hear every run event; each message is still posted once. */
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { openDeployment } from "../../src/compose/open-deployment.ts";
import { ChatNotifier } from "../../src/chat/notifier.ts";
import { MemorySurface } from "../helpers/memory-surface.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { until } from "../helpers/until.ts";
import { steps, Workspace } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("ChatNotifier on Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const prefix = testPrefix();
  let ws: Workspace;
  /** What the notifiers' retries wait on (the runners keep the system clock). */
  let clock: TestClock;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await ws.remove();
  });
  afterAll(() => deleteKeys(url!, prefix));

  async function bot(name: string, surface: MemorySurface): Promise<{ runner: SopRunner; notifier: ChatNotifier }> {
    const logsDir = join(ws.root, `logs-${name}`);
    await mkdir(logsDir, { recursive: true });
    const { runner, ledger } = await openDeployment({ sopsDir: ws.sopsDir, logsDir, redisUrl: url!, env: ws.env({ SOP_REDIS_PREFIX: prefix }) });
    const notifier = new ChatNotifier({ runner, ledger, surface, context: {}, log: silentLogger, clock });
    await notifier.start();
    closers.push(() => runner.close(), () => notifier.close());
    return { runner, notifier };
  }

  it("posts each message of a run once although both processes are told of every change", async () => {
    ws = await Workspace.create();
    clock = new TestClock();
    await ws.addSop("gated", `description = "x"`, steps("**Build**\n```sh\ntrue\n```", "**Ship** [requires_approval: true]\n```sh\ntrue\n```"));
    // One channel, shared by both processes, as one Slack workspace would be.
    const surface = new MemorySurface();
    const a = await bot("a", surface);
    const b = await bot("b", surface);
    const run = await a.runner.execute("gated", { actor: "slack:UALICE" });
    await b.runner.approve("gated", { actor: "slack:UBOB", runId: run.run_id, wait: true });
    await until("the summary", () => surface.find("Audit summary"), 15_000);
    await Promise.all([a.notifier.idle(), b.notifier.idle()]);
    // Claims that lost the race are retried 2 s later; let those retries find nothing to do.
    await clock.advance(2500);
    await Promise.all([a.notifier.idle(), b.notifier.idle()]);
    const titles = surface.shown.map((m) => m.message.title.replace(/ · run \S+/, "").split(":")[0]);
    expect(titles.sort()).toEqual(["Approval", "Audit summary", "gated 0.1.0", "✅ Step 1 Build", "✅ Step 2 Ship"].sort());
    expect(surface.find("Approval")!.message.buttons).toEqual([]);
  });
});
