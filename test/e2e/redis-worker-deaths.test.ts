/**
 * Workers that die mid-step on Redis: each takeover stops the command the dead worker left
 * running before it retries the step, and no number of deaths loses the run (BullMQ gives up on
 * a job that stalled too often; the run's claim and every worker's sweep do not).
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { createSopRunner } from "../../src/compose/open-deployment.ts";
import { spawnSop } from "../helpers/cli.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("workers dying mid-step on Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let prefix: string;
  let bot: SopRunner | undefined;
  let marker: string;
  const workers: ChildProcess[] = [];
  const prefixes: string[] = [];

  const startWorker = (): ChildProcess => {
    const child = spawnSop(["worker"], {
      cwd: ws.root,
      env: ws.env({
        REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir, LOGS_DIR: join(ws.root, "worker-logs"),
        SOP_LOCK_DURATION_MS: "1500", SOP_STALLED_INTERVAL_MS: "500", SOP_SWEEP_INTERVAL_MS: "1000",
      }),
    });
    workers.push(child);
    return child;
  };
  const kill9 = async (child: ChildProcess): Promise<void> => {
    const gone = new Promise((r) => child.once("close", r));
    child.kill("SIGKILL");
    await gone;
  };
  const attempts = async (): Promise<string[]> => (await readFile(join(ws.tmpDir, "attempts"), "utf8").catch(() => "")).split("\n").filter(Boolean);

  beforeEach(async () => {
    ws = await Workspace.create();
    prefix = testPrefix();
    prefixes.push(prefix);
    marker = `deaths-${process.pid}-${Date.now()}`;
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
    spawnSync("pkill", ["-f", marker]);
    await bot?.close();
    bot = undefined;
    await ws.remove();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });

  it("finishes a step with retries: 2 after two workers died running it, and never runs two of its attempts at once", async () => {
    // Attempt 1 sleeps until its worker is killed, and dies with it. Attempt 2 ignores SIGTERM,
    // so it outlives its worker until the takeover kills it. Attempt 3 succeeds at once. An attempt
    // is listed only once its trap is set: the test kills the worker as soon as it sees the line.
    await ws.addSop("stubborn", `description = "x"\nexecution_mode = "automatic"`, steps(
      `**Work** [retries: 2]\n\`\`\`sh\ntouch "$TMPDIR/attempts"\nn=$(($(wc -l < "$TMPDIR/attempts") + 1))\nif [ "$n" -eq 2 ]; then trap '' TERM; fi\necho "$$" >> "$TMPDIR/attempts"\nif [ "$n" -lt 3 ]; then sleep 60 # ${marker}\nfi\necho finished\n\`\`\``,
    ));
    bot = await createSopRunner({ sopsDir: ws.sopsDir, logsDir: ws.logsDir, redisUrl: url!, env: ws.env({ SOP_REDIS_PREFIX: prefix }), worker: false });
    const run = await bot.execute("stubborn", { wait: false });
    for (const death of [1, 2]) {
      const worker = startWorker();
      await until(`attempt ${death} to run`, async () => (await attempts()).length === death, 30_000);
      await kill9(worker);
      if (death === 1) await until("attempt 1 to end with its worker", () => spawnSync("pgrep", ["-f", marker]).status === 1);
      // Attempt 2 ignores the SIGTERM its launcher sent when the worker died: it runs on, an orphan.
      else expect(spawnSync("pgrep", ["-f", marker]).status).toBe(0);
    }
    startWorker();
    const record = await until("the run to end", async () => {
      const r = await bot!.record(run.run_id);
      return r.status === "success" || r.status === "failed" ? r : undefined;
    }, 60_000);
    expect(record.status).toBe("success");
    expect(await attempts()).toHaveLength(3);
    expect(record.steps[0]!.output).toMatch(/--- interrupted; retry 1 of 2 \(its process group \d+ on .* had ended\) ---/);
    expect(record.steps[0]!.output).toMatch(/--- interrupted; retry 2 of 2 \(its process group \d+ on .* was killed\) ---/);
    expect(record.steps[0]!.output).toContain("finished");
    expect(spawnSync("pgrep", ["-f", marker]).status, "no orphaned attempt still runs").toBe(1);
  }, 120_000);
});
