import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun } from "../../src/core/run/new-run.ts";
import type { RunState } from "../../src/core/run/run-state.ts";
import { DEFAULT_APPROVAL, type Priority, type SopDefinition } from "../../src/core/sop/types.ts";
import { FileRunStore } from "../../src/drivers/local/file-run-store.ts";
import type { StoredRun } from "../../src/ports/run-store.ts";

const GENESIS = "0".repeat(64);

const definition: SopDefinition = {
  name: "deploy",
  description: "Deploy the app",
  version: "1.0.0",
  priority: "medium",
  executionMode: "automatic",
  cooldownSecs: 0,
  maxConcurrent: 1,
  workdir: ".",
  vars: { env: "staging" },
  secrets: [],
  approval: DEFAULT_APPROVAL,
  notify: { slack: [], discord: [] },
  triggers: [{ type: "manual" }],
  gates: [],
  steps: [
    {
      number: 1, title: "Build", slug: "build", description: "", commands: ["make"], shown: [],
      requiresApproval: false, manual: false, retries: 0, continueOnError: false, always: false, metadata: {}, line: 5,
    },
  ],
};

function storedRun(id: string, opts: { sop?: string; priority?: Priority; queuedAt?: number } = {}): StoredRun {
  const def = { ...definition, name: opts.sop ?? "deploy", priority: opts.priority ?? "medium" };
  const run = newRun(def, {
    id, definitionHash: "a".repeat(64), trigger: { type: "manual", source: "cli" }, requestedBy: "local:alice",
    vars: {}, now: opts.queuedAt ?? 1_000,
  });
  return { run, definition: def, dir: `/sops/${def.name}`, holdsSlot: false };
}

function bumped(run: RunState, change: Partial<RunState>): RunState {
  return { ...run, ...change, revision: run.revision + 1 };
}

const admitNow = { cooldownSecs: 0, force: false, now: 1_000 };

let dataDir: string;
let store: FileRunStore;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "sop-local-store-"));
  store = await FileRunStore.open(dataDir);
});

afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** What the engine does: take a slot, then mark the run running. */
async function start(id: string, maxConcurrent: number): Promise<boolean> {
  if (!(await store.tryStart(id, maxConcurrent))) return false;
  const run = (await store.get(id))!.run;
  return store.update(id, run.revision, bumped(run, { status: "running" }));
}

async function reopen(options: { onProblem?: (m: string) => void } = {}): Promise<FileRunStore> {
  await store.close();
  store = await FileRunStore.open(dataDir, options);
  return store;
}

describe("FileRunStore persistence", () => {
  it("brings back every field of every run after close and reopen, seal and slot included", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), { ...admitNow, now: 2_000 });
    expect(await store.tryStart("r1", 1)).toBe(true);
    const r1 = (await store.get("r1"))!.run;
    await store.update("r1", 0, bumped(r1, { status: "running", startedAt: 1_500, outputVars: { tag: "v1" } }));
    await store.setSeal("r2", { seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
    const before = [await store.get("r1"), await store.get("r2")];

    await reopen();

    expect([await store.get("r1"), await store.get("r2")]).toEqual(before);
    expect((await store.get("r1"))?.holdsSlot).toBe(true);
    expect((await store.get("r2"))?.seal).toEqual({ seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
    expect(await readdir(join(dataDir, "runs"))).toEqual(["r1.json", "r2.json"]);
  });

  it("keeps the newest state on disk when many updates of one run are in flight at once", async () => {
    await store.admit(storedRun("r1"), admitNow);
    let run = (await store.get("r1"))!.run;
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < 20; i++) {
      const next = bumped(run, { outputVars: { i } });
      writes.push(store.update("r1", run.revision, next));
      run = next;
    }
    expect(await Promise.all(writes)).toEqual(Array(20).fill(true));
    await reopen();
    expect((await store.get("r1"))?.run).toEqual(run);
  });

  it("hands out copies, so changing a returned run does not change the store", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const got = (await store.get("r1"))!;
    got.run.status = "failed";
    expect((await store.get("r1"))?.run.status).toBe("queued");
  });

  it("lists runs by SOP and status, oldest first", async () => {
    await store.admit(storedRun("b", { queuedAt: 2_000 }), admitNow);
    await store.admit(storedRun("a", { queuedAt: 3_000 }), admitNow);
    await store.admit(storedRun("o", { sop: "other" }), admitNow);
    const a = (await store.get("a"))!.run;
    await store.update("a", 0, bumped(a, { status: "success" }));
    expect((await store.list()).map((r) => r.id)).toEqual(["o", "b", "a"]);
    expect((await store.list({ sop: "deploy" })).map((r) => r.id)).toEqual(["b", "a"]);
    expect((await store.list({ statuses: ["queued"] })).map((r) => r.id)).toEqual(["o", "b"]);
  });
});

describe("FileRunStore compare-and-set", () => {
  it("refuses an update made from a stale revision", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const run = (await store.get("r1"))!.run;
    expect(await store.update("r1", 0, bumped(run, { status: "running" }))).toBe(true);
    expect(await store.update("r1", 0, bumped(run, { status: "cancelled" }))).toBe(false);
    expect((await store.get("r1"))?.run).toMatchObject({ status: "running", revision: 1 });
  });

  it("lets exactly one of two concurrent updates from the same revision win", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const run = (await store.get("r1"))!.run;
    const results = await Promise.all([
      store.update("r1", 0, bumped(run, { endReason: "first" })),
      store.update("r1", 0, bumped(run, { endReason: "second" })),
    ]);
    expect(results).toEqual([true, false]);
  });

  it("refuses an update of a run it does not have", async () => {
    expect(await store.update("nope", 0, storedRun("nope").run)).toBe(false);
  });
});

describe("FileRunStore admission", () => {
  it("refuses a run during the cooldown with the seconds remaining, rounded up", async () => {
    expect(await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 })).toEqual({ accepted: true });
    const refused = await store.admit(storedRun("r2", { queuedAt: 40_500 }), { cooldownSecs: 60, force: false, now: 40_500 });
    expect(refused).toEqual({ accepted: false, reason: "cooldown", retryAfterSecs: 30 });
    expect(await store.get("r2")).toBeUndefined();
    expect(await store.cooldownRemaining("deploy", 60, 40_500)).toBe(30);
  });

  it("accepts a forced run during the cooldown, and that run starts a new cooldown", async () => {
    await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 });
    expect(await store.admit(storedRun("r2", { queuedAt: 20_000 }), { cooldownSecs: 60, force: true, now: 20_000 })).toEqual({ accepted: true });
    const refused = await store.admit(storedRun("r3", { queuedAt: 75_000 }), { cooldownSecs: 60, force: false, now: 75_000 });
    expect(refused).toMatchObject({ accepted: false, retryAfterSecs: 5 });
  });

  it("accepts again once the cooldown has passed, and counts ended runs after a reopen", async () => {
    await store.admit(storedRun("r1", { queuedAt: 10_000 }), { cooldownSecs: 60, force: false, now: 10_000 });
    const run = (await store.get("r1"))!.run;
    await store.update("r1", 0, bumped(run, { status: "success" }));
    await reopen();
    expect(await store.cooldownRemaining("deploy", 60, 69_999)).toBe(1);
    expect((await store.admit(storedRun("r2", { queuedAt: 69_999 }), { cooldownSecs: 60, force: false, now: 69_999 })).accepted).toBe(false);
    expect((await store.admit(storedRun("r3", { queuedAt: 70_000 }), { cooldownSecs: 60, force: false, now: 70_000 })).accepted).toBe(true);
  });

  it("accepts only one of two runs admitted at the same moment under a cooldown", async () => {
    const opts = { cooldownSecs: 60, force: false, now: 1_000 };
    const results = await Promise.all([store.admit(storedRun("r1"), opts), store.admit(storedRun("r2"), opts)]);
    expect(results.map((r) => r.accepted)).toEqual([true, false]);
  });

  it("keeps the cooldown of each SOP to itself", async () => {
    await store.admit(storedRun("r1"), { cooldownSecs: 60, force: false, now: 1_000 });
    expect((await store.admit(storedRun("o1", { sop: "other" }), { cooldownSecs: 60, force: false, now: 1_000 })).accepted).toBe(true);
  });

  it("refuses a run id that already exists or cannot be a file name", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await expect(store.admit(storedRun("r1"), admitNow)).rejects.toThrow(/already exists/);
    await expect(store.admit(storedRun("../evil"), admitNow)).rejects.toThrow(/not a valid file name/);
  });
});

describe("FileRunStore slots and the line", () => {
  it("starts no more runs of a SOP than max_concurrent, and one more after a release", async () => {
    for (const [i, id] of ["r1", "r2", "r3"].entries()) await store.admit(storedRun(id, { queuedAt: 1_000 + i }), admitNow);
    expect(await start("r1", 2)).toBe(true);
    expect(await start("r2", 2)).toBe(true);
    expect(await store.tryStart("r3", 2)).toBe(false);
    expect(await store.release("r1")).toEqual(["r3"]);
    expect(await store.tryStart("r3", 2)).toBe(true);
  });

  it("gives only one slot when two runs race for the last one", async () => {
    await store.admit(storedRun("r1", { queuedAt: 1_000 }), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 1_000 }), admitNow);
    const started = await Promise.all([store.tryStart("r1", 1), store.tryStart("r2", 1)]);
    expect(started.filter(Boolean)).toHaveLength(1);
  });

  it("lets a later critical run go before an earlier low one", async () => {
    await store.admit(storedRun("low", { priority: "low", queuedAt: 1_000 }), admitNow);
    await store.admit(storedRun("crit", { priority: "critical", queuedAt: 5_000 }), admitNow);
    expect(await store.tryStart("low", 1)).toBe(false);
    expect(await store.tryStart("crit", 1)).toBe(true);
  });

  it("starts runs of equal priority in arrival order", async () => {
    await store.admit(storedRun("second", { queuedAt: 2_000 }), admitNow);
    await store.admit(storedRun("first", { queuedAt: 1_000 }), admitNow);
    expect(await store.tryStart("second", 5)).toBe(false);
    expect(await store.tryStart("first", 5)).toBe(true);
    expect(await store.tryStart("second", 5)).toBe(true);
  });

  it("returns the line from release: priority first, then arrival", async () => {
    await store.admit(storedRun("running", { queuedAt: 500 }), admitNow);
    await start("running", 1);
    await store.admit(storedRun("low", { priority: "low", queuedAt: 1_000 }), admitNow);
    await store.admit(storedRun("high-late", { priority: "high", queuedAt: 3_000 }), admitNow);
    await store.admit(storedRun("high-early", { priority: "high", queuedAt: 2_000 }), admitNow);
    await store.admit(storedRun("crit", { priority: "critical", queuedAt: 4_000 }), admitNow);
    expect(await store.release("running")).toEqual(["crit", "high-early", "high-late", "low"]);
  });

  it("says yes again to a run that already holds a slot, and no to a run that is not queued", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    expect(await start("r1", 1)).toBe(true);
    expect(await store.tryStart("r1", 1)).toBe(true);
    const r2 = (await store.get("r2"))!.run;
    await store.update("r2", 0, bumped(r2, { status: "cancelled" }));
    await store.release("r1");
    expect(await store.tryStart("r2", 1)).toBe(false);
    expect(await store.tryStart("missing", 1)).toBe(false);
  });

  it("puts a run that gives its slot back while still queued back in the line", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    await store.tryStart("r1", 1);
    expect(await store.release("r1")).toEqual(["r1", "r2"]);
  });

  it("counts a slot held by an ended run until it is released, also after a reopen", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    await store.tryStart("r1", 1);
    const r1 = (await store.get("r1"))!.run;
    await store.update("r1", 0, bumped(r1, { status: "failed" }));
    await reopen();
    expect(await store.tryStart("r2", 1)).toBe(false);
    expect(await store.release("r1")).toEqual(["r2"]);
    expect(await store.tryStart("r2", 1)).toBe(true);
  });
});

describe("FileRunStore audit chain", () => {
  it("starts every SOP at seq 0 with the genesis hash", async () => {
    expect(await store.chainHead("deploy")).toEqual({ seq: 0, hash: GENESIS });
    expect(await store.chainHeads()).toEqual(new Map());
  });

  it("moves the head only from the head it expected", async () => {
    const first = { seq: 1, hash: "1".repeat(64), runId: "r1", prevHash: GENESIS };
    expect(await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, first)).toBe(true);
    const rival = { seq: 1, hash: "9".repeat(64), runId: "r9", prevHash: GENESIS };
    expect(await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, rival)).toBe(false);
    expect(await store.chainHead("deploy")).toEqual(first);
    expect(await store.chainHeads()).toEqual(new Map([["deploy", first]]));
  });

  it("recovers a head that moved when the run's seal was never written", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const head = { seq: 1, hash: "1".repeat(64), runId: "r1", prevHash: GENESIS };
    await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, head);
    await reopen();
    expect(await store.chainHead("deploy")).toEqual(head);
    expect((await store.get("r1"))?.seal).toBeUndefined();
  });

  it("derives the head from the sealed runs when the head file is older or missing", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    await store.advanceChain("deploy", { seq: 0, hash: GENESIS }, { seq: 1, hash: "1".repeat(64), runId: "r1", prevHash: GENESIS });
    await store.setSeal("r1", { seq: 1, prevHash: GENESIS, hash: "1".repeat(64) });
    await store.setSeal("r2", { seq: 2, prevHash: "1".repeat(64), hash: "2".repeat(64) });
    await store.close();
    await rm(join(dataDir, "chain"), { recursive: true });
    store = await FileRunStore.open(dataDir);
    expect(await store.chainHead("deploy")).toEqual({ seq: 2, hash: "2".repeat(64), runId: "r2", prevHash: "1".repeat(64) });
  });
});

describe("FileRunStore damaged files", () => {
  it("reports a corrupt run file, moves it aside and loads every other run", async () => {
    await store.admit(storedRun("good"), admitNow);
    await store.close();
    const runs = join(dataDir, "runs");
    await writeFile(join(runs, "broken.json"), '{"run": {"id": "bro');
    await writeFile(join(runs, "anonymous.json"), JSON.stringify({ run: { sop: "deploy" } }));
    const told: string[] = [];

    store = await FileRunStore.open(dataDir, { onProblem: (m) => told.push(m) });

    expect((await store.get("good"))?.run.id).toBe("good");
    expect(store.problems).toEqual(told);
    expect(told).toHaveLength(2);
    const broken = join(runs, "broken.json");
    expect(told).toContain(`${join(runs, "anonymous.json")}: cannot read run state: run.id is missing; the file was moved to ${join(runs, "anonymous.json")}.corrupt`);
    expect(told.find((m) => m.startsWith(broken))).toMatch(/cannot read run state: not valid JSON .*; the file was moved to .*broken\.json\.corrupt$/);
    expect((await readdir(runs)).sort()).toEqual(["anonymous.json.corrupt", "broken.json.corrupt", "good.json"]);
  });

  it("reports a corrupt chain head file and falls back to the sealed runs", async () => {
    await mkdir(join(dataDir, "chain"), { recursive: true });
    await writeFile(join(dataDir, "chain", "deploy.json"), "garbage");
    await reopen();
    expect(store.problems).toHaveLength(1);
    expect(store.problems[0]).toMatch(/deploy\.json: cannot read audit chain head: .*moved to .*deploy\.json\.corrupt$/);
    expect(await store.chainHead("deploy")).toEqual({ seq: 0, hash: GENESIS });
  });

  it("removes the temp files an interrupted write left behind", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.close();
    await writeFile(join(dataDir, "runs", ".r1.json.4242.abcdef.tmp"), '{"run":');
    await writeFile(join(dataDir, "chain", ".deploy.json.4242.abcdef.tmp"), "");
    store = await FileRunStore.open(dataDir);
    expect(await readdir(join(dataDir, "runs"))).toEqual(["r1.json"]);
    expect(await readdir(join(dataDir, "chain"))).toEqual([]);
    expect(store.problems).toEqual([]);
  });

  it("writes plain JSON that a person can read", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const onDisk = JSON.parse(await readFile(join(dataDir, "runs", "r1.json"), "utf8")) as StoredRun;
    expect(onDisk).toEqual(await store.get("r1"));
  });
});
