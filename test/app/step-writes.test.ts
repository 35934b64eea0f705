/**
 * A step's end and the next step's start travel in one write: one durable write per step, not
 * two. What that must not cost: the end's own time, and the end itself when the start cannot be
 * written.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { ShellExecutor } from "../../src/exec/shell-executor.ts";
import type { CommandResult, CommandSpec, StepExecutor } from "../../src/ports/step-executor.ts";
import type { RunStore } from "../../src/ports/run-store.ts";
import { storeOf } from "../helpers/runner-internals.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
const runners: SopRunner[] = [];

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
  await ws.remove();
});

async function open(opts: Parameters<Workspace["runner"]>[0] = {}): Promise<SopRunner> {
  const runner = await ws.runner(opts);
  runners.push(runner);
  return runner;
}

/** Each step appends its number to $TMPDIR/journal: how often each really ran. */
async function addJournalSop(name: string, count: number): Promise<void> {
  const items = Array.from({ length: count }, (_, i) => `**Step ${i + 1}**\n\`\`\`sh\necho ${i + 1} >> "$TMPDIR/journal"\necho step ${i + 1} done\n\`\`\``);
  await ws.addSop(name, `description = "x"\nexecution_mode = "automatic"`, steps(...items));
}

async function journal(): Promise<string[]> {
  return (await readFile(join(ws.tmpDir, "journal"), "utf8")).trim().split("\n");
}

/** Counts the store's writes, and fails the first one `fails` picks (once). */
function watchUpdates(store: RunStore, fails: (next: Parameters<RunStore["update"]>[2]) => boolean = () => false): { count: number } {
  const seen = { count: 0 };
  const update = store.update.bind(store);
  let failed = false;
  store.update = (runId, revision, next, ending, claim) => {
    seen.count += 1;
    if (!failed && fails(next)) {
      failed = true;
      return Promise.reject(new Error("EIO: i/o error, write"));
    }
    return update(runId, revision, next, ending, claim);
  };
  return seen;
}

describe("one write per step", () => {
  it("writes each step's end with the next step's start", async () => {
    await addJournalSop("five", 5);
    const runner = await open();
    const writes = watchUpdates(storeOf(runner));
    const record = await runner.execute("five", { wait: true });
    expect(record.status).toBe("success");
    expect(record.steps.map((s) => [s.status, s.output.trim()])).toEqual([1, 2, 3, 4, 5].map((n) => ["success", `step ${n} done`]));
    // The run's start, step 1's start, four ends each with the next start, the last end: 7, not 11.
    expect(writes.count).toBe(7);
    expect(await journal()).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("times a step's end when it ended, not when the write that carries it went out", async () => {
    await addJournalSop("two", 2);
    const clock = new TestClock();
    const shell = new ShellExecutor();
    // A second passes between one command's end and the next one's process.
    const slowToSpawn: StepExecutor = {
      async run(spec: CommandSpec): Promise<CommandResult> {
        await clock.advance(1000);
        return shell.run(spec);
      },
    };
    const runner = await open({ clock, executor: slowToSpawn });
    const t0 = clock.now();
    const record = await runner.execute("two", { wait: true });
    expect(record.status).toBe("success");
    const [first, second] = record.steps;
    expect(first?.completed_at).toBe(new Date(t0 + 1000).toISOString());
    expect(second?.started_at).toBe(first?.completed_at);
    expect(second?.completed_at).toBe(new Date(t0 + 2000).toISOString());
  });

  it("keeps a step's end when the next step's start cannot be written, and runs the next step later, once", async () => {
    await addJournalSop("two", 2);
    const runner = await open();
    // The write that would record where step 2's command runs fails (a disk error).
    watchUpdates(storeOf(runner), (next) => next.steps[1]?.process !== undefined);
    const { run_id: id } = await runner.execute("two", { wait: false });
    await until("step 1's end on record", async () => (await runner.run(id))?.run.steps[0]?.status === "success");
    const stored = await runner.run(id);
    expect(stored?.run.steps[0]).toMatchObject({ status: "success", output: "step 1 done\n" });
    expect(stored?.run.steps[1]?.process).toBeUndefined();
    // Step 2 never began; whoever moves the run next runs it: the sweep, once the claim is given up.
    await until("the sweep to find the run nobody holds", async () => (await runner.sweep()).unclaimed.includes(id));
    const record = await until("the run to end", async () => {
      const r = await runner.record(id);
      return r.status === "success" ? r : undefined;
    });
    expect(record.steps.map((s) => s.status)).toEqual(["success", "success"]);
    expect(await journal()).toEqual(["1", "2"]);
  });
});
