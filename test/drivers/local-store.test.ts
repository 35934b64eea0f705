// What every RunStore must do is in test/contract; this file keeps what is particular to files.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileRunStore } from "../../src/drivers/local/file-run-store.ts";
import { admitNow, bumped, endRun, GENESIS, startRun, storedRun } from "../contract/fixtures.ts";
import type { StoredRun } from "../../src/ports/run-store.ts";

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

async function reopen(options: { onProblem?: (m: string) => void } = {}): Promise<FileRunStore> {
  await store.close();
  store = await FileRunStore.open(dataDir, options);
  return store;
}

describe("FileRunStore persistence", () => {
  it("brings back every field of every run after close and reopen, seal included", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), { ...admitNow, now: 2_000 });
    const r1 = (await store.get("r1"))!.run;
    await store.update("r1", 0, bumped(r1, { status: "running", startedAt: 1_500, outputVars: { tag: "v1" } }));
    await endRun(store, "r2", "cancelled");
    const before = [await store.get("r1"), await store.get("r2")];

    await reopen();

    expect([await store.get("r1"), await store.get("r2")]).toEqual(before);
    expect((await store.get("r2"))?.seal).toEqual({ seq: 1, prevHash: GENESIS, hash: "b".repeat(64) });
    expect(await readdir(join(dataDir, "runs"))).toEqual(["r1.json", "r2.json"]);
  });

  it("keeps DATA_DIR's run and chain files readable by their owner only", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await endRun(store, "r1");
    await store.close();
    for (const dir of ["runs", "chain"]) expect((await stat(join(dataDir, dir))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, "runs", "r1.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, "chain", "deploy.json"))).mode & 0o777).toBe(0o600);
    store = await FileRunStore.open(dataDir);
  });

  it("reads an older run file that still says whether it holds a slot, and ignores that", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.close();
    const path = join(dataDir, "runs", "r1.json");
    await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, "utf8")) as object, holdsSlot: true }));
    await reopen();
    expect(await store.get("r1")).toEqual(storedRun("r1"));
    expect(await startRun(store, "r1")).toBe(true);
  });

  it("keeps the newest state on disk when many updates of one run are in flight at once", async () => {
    await store.admit(storedRun("r1"), admitNow);
    let run = (await store.get("r1"))!.run;
    const writes: Promise<{ ok: boolean }>[] = [];
    for (let i = 0; i < 20; i++) {
      const next = bumped(run, { outputVars: { i } });
      writes.push(store.update("r1", run.revision, next));
      run = next;
    }
    expect((await Promise.all(writes)).map((w) => w.ok)).toEqual(Array(20).fill(true));
    await reopen();
    expect((await store.get("r1"))?.run).toEqual(run);
  });

  it("hands out copies, so changing a returned run does not change the store", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const got = (await store.get("r1"))!;
    got.run.status = "failed";
    expect((await store.get("r1"))?.run.status).toBe("queued");
  });
});

describe("FileRunStore compare-and-set", () => {
  it("lets exactly one of two concurrent updates from the same revision win", async () => {
    await store.admit(storedRun("r1"), admitNow);
    const run = (await store.get("r1"))!.run;
    const results = await Promise.all([
      store.update("r1", 0, bumped(run, { endReason: "first" })),
      store.update("r1", 0, bumped(run, { endReason: "second" })),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
  });
});

describe("FileRunStore admission", () => {
  it("accepts only one of two runs admitted at the same moment under a cooldown", async () => {
    const opts = { cooldownSecs: 60, force: false, now: 1_000 };
    const results = await Promise.all([store.admit(storedRun("r1"), opts), store.admit(storedRun("r2"), opts)]);
    expect(results.map((r) => r.accepted)).toEqual([true, false]);
  });

  it("refuses a run id that already exists or cannot be a file name", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await expect(store.admit(storedRun("r1"), admitNow)).rejects.toThrow(/already exists/);
    await expect(store.admit(storedRun("../evil"), admitNow)).rejects.toThrow(/not a valid file name/);
  });
});

describe("FileRunStore audit chain", () => {
  it("derives the head from the sealed runs when the head file is older or missing", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await store.admit(storedRun("r2", { queuedAt: 2_000 }), admitNow);
    await endRun(store, "r1", "success", "1".repeat(64));
    await endRun(store, "r2", "success", "2".repeat(64));
    await store.close();
    await rm(join(dataDir, "chain"), { recursive: true });
    store = await FileRunStore.open(dataDir);
    expect(await store.chainHead("deploy")).toEqual({ seq: 2, hash: "2".repeat(64), runId: "r2" });
    expect(await store.sealedRuns("deploy", 1, 2)).toEqual([{ seq: 1, runId: "r1" }, { seq: 2, runId: "r2" }]);
  });
});

describe("FileRunStore read-only", () => {
  it("reads what another process holds, refuses every change and touches no file", async () => {
    await store.admit(storedRun("r1"), admitNow);
    await writeFile(join(dataDir, "runs", ".r1.json.4242.abcdef.tmp"), '{"run":');
    await writeFile(join(dataDir, "runs", "broken.json"), "{");
    const reader = await FileRunStore.open(dataDir, { readOnly: true });
    expect((await reader.get("r1"))?.run.status).toBe("queued");
    expect(reader.problems).toEqual([expect.stringMatching(/broken\.json: cannot read run state: .*; left as it is$/)]);
    await expect(reader.admit(storedRun("r2"), admitNow)).rejects.toThrow(/read-only/);
    await expect(startRun(reader, "r1")).rejects.toThrow(/read-only/);
    expect((await readdir(join(dataDir, "runs"))).sort()).toEqual([".r1.json.4242.abcdef.tmp", "broken.json", "r1.json"]);
    await reader.close();
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
