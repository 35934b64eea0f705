/**
 * No single lost message strands a run, and ending a run seals it once (DESIGN invariants 7–9):
 * the sweep, the seal in the transition, and secrets kept out of the store. A step's end and the
 * next step's start travel in one write (one durable write per step, not two), which must not
 * cost the end's own time, or the end itself when the start cannot be written.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { newRun } from "../../src/core/run/new-run.ts";
import { keyPrefix } from "../../src/drivers/redis/redis-keys.ts";
import { verifyAuditDir } from "../../src/audit/verify-audit.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { ShellExecutor } from "../../src/exec/shell-executor.ts";
import type { CommandResult, CommandSpec, StepExecutor } from "../../src/ports/step-executor.ts";
import type { RunStore } from "../../src/ports/run-store.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";
import { storeOf } from "../helpers/runner-internals.ts";
import { groupIsGone } from "../helpers/process-group.ts";

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

/** A run admitted straight into the store, as if the process that accepted it died before its nudge. */
async function admitWithoutNudge(runner: SopRunner, sop: string): Promise<string> {
  const loaded = runner.sop(sop)!;
  const run = newRun(loaded.definition, { id: `lost-${Date.now()}`, definitionHash: loaded.hash, trigger: { type: "manual" }, requestedBy: "local:test", vars: {}, now: Date.now() });
  await storeOf(runner).admit({ run, definition: loaded.definition, dir: loaded.dir }, { cooldownSecs: 0, force: false, now: run.queuedAt });
  return run.id;
}

describe("the sweep (local driver)", () => {
  it("starts a queued run whose nudge was lost", async () => {
    await ws.addSop("plain", `description = "x"\nexecution_mode = "automatic"`, steps("**Say**\n```sh\necho hi\n```"));
    const runner = await open();
    const id = await admitWithoutNudge(runner, "plain");
    expect((await runner.run(id))?.run.status).toBe("queued");
    const report = await runner.sweep();
    expect(report.startable).toEqual([id]);
    const record = await until("the run to end", async () => ((await runner.record(id)).status === "success" ? runner.record(id) : undefined));
    expect(record).toMatchObject({ status: "success", seq: 1 });
  });

  it("leaves a run another process holds alone, and takes it over once that claim lapsed", async () => {
    await ws.addSop("plain", `description = "x"\nexecution_mode = "automatic"`, steps("**Say**\n```sh\necho hi\n```"));
    const runner = await open();
    const id = await admitWithoutNudge(runner, "plain");
    // Another process claimed it (and then died): this worker's first change must be refused.
    const claimedAt = Date.now();
    const claimedUntil = claimedAt + 300;
    expect(await storeOf(runner).claim(id, "elsewhere", 300, claimedAt)).toBe(true);
    expect((await runner.sweep()).startable).toEqual([id]);
    const record = await until("the run to end", async () => ((await runner.record(id)).status === "success" ? runner.record(id) : undefined));
    expect(record).toMatchObject({ status: "success", seq: 1 });
    expect(Date.parse(record.started_at!)).toBeGreaterThanOrEqual(claimedUntil);
  });

  it("stops a running command before its claim lapses when the store stops answering the renewals", async () => {
    await ws.addSop("slow", `description = "x"\nexecution_mode = "automatic"`, steps('**Migrate**\n```sh\necho $$ > "$TMPDIR/pid"\nsleep 30\n```'));
    const warnings: string[] = [];
    const log = { info() {}, error() {}, debug() {}, warn: (_o: object, msg?: string) => void warnings.push(msg ?? "") };
    const runner = await open({ claimTtlMs: 400, log });
    const run = await runner.execute("slow", { wait: false });
    const pid = await until("the command to run", () => readFile(join(ws.tmpDir, "pid"), "utf8").then((text) => Number(text) || undefined, () => undefined));
    // Renewals go unanswered from here (a client queueing its commands through a long reconnect):
    // whoever takes the run over once the claim lapsed could not tell the command still runs here.
    storeOf(runner).claim = () => new Promise<boolean>(() => undefined);
    // The shell is its process group's leader: the group is the command and all it started.
    await until("the command to be stopped", () => groupIsGone(pid));
    expect(warnings.join("\n")).toContain(`run ${run.run_id}: the store has not answered this process's claim renewals`);
    // Its end is not this process's to write any more: the process that takes the run over recovers the step.
    expect((await runner.run(run.run_id))?.run.steps[0]?.status).toBe("running");
  });

  it("re-arms the deadline of a run that waits, after a restart lost the in-process timer", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"\n[approval]\ntimeout_secs = 60\non_timeout = "deny"`, steps("**Deploy** [requires_approval: true]\n```sh\ntrue\n```"));
    // Asked for two minutes ago, by this clock: its deadline has passed when the next process starts.
    let runner = await open({ now: () => Date.now() - 120_000 });
    const first = await runner.execute("gated");
    expect(first.status).toBe("awaiting_approval");
    await runners.pop()!.close();
    runner = await open();
    const record = await until("the deadline to end the run", async () => {
      const r = await runner.record(first.run_id);
      return r.status === "timed_out" ? r : undefined;
    });
    expect(record.end_reason).toMatch(/no decision on step:1 within 60 s/);
  });

});

describe("closing (local driver)", () => {
  it("lets the running step finish, starts no further one, and the next process goes on from there", async () => {
    await ws.addSop("two", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**One**\n```sh\necho x >> "$TMPDIR/one"; sleep 1\n```',
      '**Two**\n```sh\necho x >> "$TMPDIR/two"\n```',
    ));
    let runner = await open();
    const run = await runner.execute("two", { wait: false });
    await until("step 1 to run", () => existsSync(join(ws.tmpDir, "one")));
    await runners.pop()!.close();
    expect(existsSync(join(ws.tmpDir, "two")), "step 2 started while closing").toBe(false);
    runner = await open();
    const record = await until("the run to end", async () => ((await runner.record(run.run_id)).status === "success" ? runner.record(run.run_id) : undefined));
    expect(record.steps.map((s) => s.status)).toEqual(["success", "success"]);
    expect(await readFile(join(ws.tmpDir, "one"), "utf8")).toBe("x\n");
    expect(await readFile(join(ws.tmpDir, "two"), "utf8")).toBe("x\n");
  });
});

describe("deadlines (local driver)", () => {
  it("times a run out at the next sweep when its deadline passed and no timer fired", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"\n[approval]\ntimeout_secs = 60\non_timeout = "deny"`, steps("**Deploy** [requires_approval: true]\n```sh\ntrue\n```"));
    let clock = Date.now();
    const runner = await open({ now: () => clock });
    const run = await runner.execute("gated");
    expect(run.status).toBe("awaiting_approval");
    expect((await runner.sweep()).timers).toBe(0);
    clock += 61_000;
    expect((await runner.sweep()).timers).toBe(1);
    const record = await until("the run to time out", async () => ((await runner.record(run.run_id)).status === "timed_out" ? runner.record(run.run_id) : undefined));
    expect(record.end_reason).toBe("no decision on step:1 within 60 s");
  });
});

describe("audit files (local driver)", () => {
  it("makes final, at the next start, a file left as it was while the run went on", async () => {
    await ws.addSop("plain", `description = "x"\nexecution_mode = "automatic"`, steps("**Say**\n```sh\necho hi\n```"));
    const run = await (await open()).execute("plain");
    const [name] = await readdir(join(ws.logsDir, "sop", "plain"));
    const path = join(ws.logsDir, "sop", "plain", name!);
    // What a process killed between the run's end and its file leaves: the file of the run going on.
    const final = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...final, status: "running", completed_at: null, seq: undefined, prev_hash: undefined, hash: undefined }, null, 2));
    await runners.pop()!.close();
    await open();
    await until("the file to be final again", async () => (JSON.parse(await readFile(path, "utf8")) as { hash?: string }).hash === run.hash);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual(final);
  });
});

describe("secrets stay out of the store (local driver)", () => {
  it("keeps the values of [secrets] and of secret-named variables out of step output and reasons in DATA_DIR", async () => {
    await ws.addSop("secretive", `description = "x"\nexecution_mode = "automatic"\n[secrets]\nnames = ["DEPLOY_TOKEN"]`, steps(
      '**Leak** [if: api_key]\n```sh\necho "token $DEPLOY_TOKEN key $SOP_VAR_API_KEY"\necho "copied=$DEPLOY_TOKEN" >> "$SOP_OUTPUT"\n```',
      '**Use** [if: copied]\n```sh\necho "key again $SOP_VAR_API_KEY"\n```',
    ));
    const runner = await open({ env: ws.env({ DEPLOY_TOKEN: "t0ken-value-456" }) });
    const record = await runner.execute("secretive", { vars: { api_key: "k3y-value-123" } });
    expect(record.status).toBe("success");
    const [file] = await readdir(join(ws.dataDir, "runs"));
    const stored = await readFile(join(ws.dataDir, "runs", file!), "utf8");
    expect(stored).not.toContain("t0ken-value-456");
    // The variable itself is kept (later steps need it), and nowhere else.
    expect(stored.split("k3y-value-123").length - 1).toBe(1);
    expect(stored).toContain("token *** key ***");
  });
});

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("over Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  const prefixes: string[] = [];
  let prefix: string;
  beforeEach(() => {
    prefix = testPrefix();
    prefixes.push(prefix);
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });
  const node = (logs = ws.logsDir, opts: Parameters<Workspace["runner"]>[0] = {}) =>
    open({ logsDir: logs, redisUrl: url!, env: ws.env({ SOP_REDIS_PREFIX: prefix, REDIS_URL: url! }), ...opts });

  it("seals each run once when two processes run them and both write audit files: the chain of 20 runs verifies", async () => {
    await ws.addSop("busy", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 20`, steps("**Work**\n```sh\nsleep 0.05\n```"));
    const a = await node();
    const b = await node();
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).execute("busy", { wait: false })));
    await until("all 20 runs to end", async () => (await Promise.all(runs.map((r) => a.record(r.run_id)))).every((r) => r.status === "success"), 30_000);
    await until("both processes to have written every final record", async () => {
      const files = await ws.auditFiles("busy");
      return files.length === 20 && files.every((f) => f.hash !== undefined);
    });
    const report = await verifyAuditDir(ws.logsDir, { heads: await a.chainHeads() });
    expect(report.problems).toEqual([]);
    expect((await ws.auditFiles("busy")).map((f) => f.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("makes the file final when the process that writes audit files was away as the run ended", async () => {
    await ws.addSop("nap", `description = "x"\nexecution_mode = "automatic"`, steps('**Nap**\n```sh\ntouch "$TMPDIR/napping"; sleep 0.5\n```'));
    const serve = await node(ws.logsDir, { worker: false });
    await node(join(ws.root, "worker-logs"), { auditFiles: false });
    const run = await serve.execute("nap", { wait: false });
    await until("the serve to write the file of the run going on", async () => (await readdir(join(ws.logsDir, "sop", "nap")).catch(() => [])).length === 1);
    await runners.splice(runners.indexOf(serve), 1)[0]!.close();
    const ended = await until("the run to end", async () => {
      const stored = await runners[0]!.run(run.run_id);
      return stored?.seal ? stored : undefined;
    });
    await node(ws.logsDir, { worker: false });
    await until("the file to be final", async () => {
      const [file] = await ws.auditFiles("nap");
      return file?.hash === ended.seal!.hash;
    });
  });

  it("moves a decided run on at a worker's sweep when every queued job was lost", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"`, steps("**Deploy** [requires_approval: true]\n```sh\necho deployed\n```"));
    const first = await node(join(ws.root, "first-logs"));
    const run = await first.execute("gated");
    expect(run.status).toBe("awaiting_approval");
    await runners.pop()!.close();
    const bot = await node(ws.logsDir, { worker: false });
    await bot.approve("gated", { actor: "api:bob" });
    // Redis lost the nudge (a failover, a flush): nothing but a sweep can move the run now.
    const queue = new Queue("jobs", { connection: { url: url! }, prefix: keyPrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
    expect((await bot.record(run.run_id)).status).toBe("running");
    const worker = await node(join(ws.root, "worker-logs"), { sweepIntervalMs: 3_600_000 });
    const record = await until("the run to end", async () => ((await bot.record(run.run_id)).status === "success" ? bot.record(run.run_id) : undefined));
    expect(record.steps[0]!.output).toBe("deployed\n");
    expect(await worker.sweep()).toEqual({ unclaimed: [], startable: [], timers: 0 });
  });

  it("starts the next queued run of a max_concurrent = 1 SOP although the process that ended the one before closed at once", async () => {
    await ws.addSop("serial", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 1`, steps("**Work**\n```sh\nsleep 0.2\n```"));
    // Each "CLI" runs its own run and closes as soon as it ends, as `sop run` does.
    const results = await Promise.all(Array.from({ length: 6 }, async () => {
      const cli = await node();
      try {
        return await cli.execute("serial");
      } finally {
        await runners.splice(runners.indexOf(cli), 1)[0]!.close();
      }
    }));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill("success"));
  }, 60_000);

  it("hands a run to another worker at once when the process driving it closes between two steps", async () => {
    await ws.addSop("two", `description = "x"\nexecution_mode = "automatic"`, steps(
      '**Wait**\n```sh\nwhile [ ! -f "$TMPDIR/go" ]; do sleep 0.05; done\n```',
      "**Then**\n```sh\necho then\n```",
    ));
    const first = await node();
    const run = await first.execute("two", { wait: false });
    await until("step 1 to run", async () => (await first.run(run.run_id))?.run.steps[0]?.status === "running");
    // Only a nudge reaches this worker in time: its sweep is an hour away.
    const other = await node(ws.logsDir, { sweepIntervalMs: 3_600_000 });
    // Closing lets step 1 finish but starts no step 2 here.
    const closing = runners.splice(runners.indexOf(first), 1)[0]!.close();
    await writeFile(join(ws.tmpDir, "go"), "");
    await closing;
    const record = await until("another worker to run step 2", async () => {
      const r = await other.record(run.run_id);
      return r.status === "success" ? r : undefined;
    });
    expect(record.steps[1]!.output).toBe("then\n");
  });
});

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
