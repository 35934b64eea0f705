// The local store's start reads runs.index instead of every ended run's file; the run files stay the truth.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EndedRuns, type RunFile } from "../../src/drivers/local/ended-runs.ts";
import { FileRunStore } from "../../src/drivers/local/file-run-store.ts";
import { admitNow, endRun, storedRun } from "../contract/fixtures.ts";

let dataDir: string;
let store: FileRunStore;
let problems: string[];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "sop-local-history-"));
  store = await FileRunStore.open(dataDir);
  problems = [];
});

afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function reopen(): Promise<FileRunStore> {
  await store.close();
  store = await FileRunStore.open(dataDir, { onProblem: (m) => problems.push(m) });
  return store;
}

const indexPath = () => join(dataDir, "runs.index");
const indexedIds = async () => (await readFile(indexPath(), "utf8")).split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
const pageIds = async () => (await store.page({ limit: 100 })).runs.map((r) => r.id);

async function endedRuns(...ids: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    await store.admit(storedRun(id, { queuedAt: 1_000 + i, maxConcurrent: 9 }), admitNow);
    await endRun(store, id, "success", String(i).padEnd(64, "e"));
  }
}

describe("FileRunStore history index", () => {
  it("writes one index line per ended run, after its file, and none for runs going on", async () => {
    await endedRuns("a", "b");
    await store.admit(storedRun("open", { queuedAt: 5_000, maxConcurrent: 9 }), admitNow);
    await store.close();
    expect(await indexedIds()).toEqual(["a", "b"]);
  });

  it("starts from the index without reading the ended runs' files, and reads one when it is asked for", async () => {
    await endedRuns("a", "b");
    await writeFile(join(dataDir, "runs", "a.json"), "{ this is not JSON");
    await reopen();
    expect(problems).toEqual([]);
    expect(await store.count("deploy", ["success"])).toBe(2);
    expect(await store.get("b")).toMatchObject({ run: { id: "b", status: "success" } });
    expect(await store.get("a")).toBeUndefined();
    expect(problems).toEqual([expect.stringContaining("a.json: cannot read run state")]);
  });

  it("finds a run whose file has no index line (a crash between the two writes), and adds the line", async () => {
    await endedRuns("a", "b");
    await store.close();
    const lines = (await readFile(indexPath(), "utf8")).split("\n");
    // The line of b lost, and a half-written line after it.
    await writeFile(indexPath(), `${lines[0]}\n{"id":"b","so`);
    await reopen();
    expect(await pageIds()).toEqual(["b", "a"]);
    expect((await store.chainHead("deploy")).seq).toBe(2);
    expect(await store.finalRecord("b")).toMatchObject({ seq: 2 });
    await store.close();
    expect((await indexedIds()).sort()).toEqual(["a", "b"]);
  });

  it("drops an index line whose run file is gone", async () => {
    await endedRuns("a", "b");
    await store.close();
    await rm(join(dataDir, "runs", "a.json"));
    await reopen();
    expect(await pageIds()).toEqual(["b"]);
    expect(await store.get("a")).toBeUndefined();
    await store.close();
    expect(await indexedIds()).toEqual(["b"]);
  });

  it("starts after pruning with the pruned runs gone and the others whole", async () => {
    await endedRuns("a", "b", "c");
    await store.markAudited("deploy", 2);
    expect((await store.prune({ endedBefore: 10_000, limit: 10 })).map((p) => p.runId).sort()).toEqual(["a", "b"]);
    await reopen();
    expect(await pageIds()).toEqual(["c"]);
    expect(await store.finalRecord("c")).toMatchObject({ seq: 3 });
    expect(problems).toEqual([]);
    await store.close();
    expect(await indexedIds()).toEqual(["c"]);
  });
});

describe("FileRunStore history index after prunes", () => {
  it("rewrites runs.index only once the pruned runs' lines outnumber the live ones; a start drops those lines", async () => {
    await endedRuns("a", "b", "c", "d", "e");
    await store.markAudited("deploy", 5);
    expect(await store.prune({ endedBefore: 10_000, limit: 2 })).toHaveLength(2);
    // 2 lines of forgotten runs, 3 live: left as they are.
    expect(await indexedIds()).toEqual(["a", "b", "c", "d", "e"]);
    expect(await pageIds()).toEqual(["e", "d", "c"]);
    await reopen();
    expect(await pageIds()).toEqual(["e", "d", "c"]);
    expect(problems).toEqual([]);
    expect(await indexedIds()).toEqual(["c", "d", "e"]);
    // 2 more: 2 forgotten against 1 live, so it is rewritten at once.
    expect(await store.prune({ endedBefore: 10_000, limit: 2 })).toHaveLength(2);
    expect(await indexedIds()).toEqual(["e"]);
  });
});

describe("FileRunStore prune and the chat ledger", () => {
  it("removes a pruned run's chat ledger files with it, and leaves the others'", async () => {
    await endedRuns("a", "b");
    for (const platform of ["slack", "discord"]) {
      await mkdir(join(dataDir, "chat", platform), { recursive: true });
      for (const id of ["a", "b"]) await writeFile(join(dataDir, "chat", platform, `${id}.json`), '{"channels":{}}');
    }
    await store.markAudited("deploy", 1);
    expect(await store.prune({ endedBefore: 10_000, limit: 10 })).toEqual([{ runId: "a", sop: "deploy" }]);
    expect((await readdir(join(dataDir, "chat", "slack"))).sort()).toEqual(["b.json"]);
    expect((await readdir(join(dataDir, "chat", "discord"))).sort()).toEqual(["b.json"]);
  });
});

describe("EndedRuns index rewrite", () => {
  it("leaves out a run whose ending is not written yet, and adds its line once the write lands", async () => {
    const ended = (id: string, queuedAt: number): RunFile => {
      const stored = storedRun(id, { queuedAt });
      return { ...stored, run: { ...stored.run, status: "success", completedAt: queuedAt + 1 } };
    };
    const runs = new EndedRuns(join(dataDir, "runs"), join(dataDir, "other.index"), (m) => problems.push(m));
    const written = ended("written", 1_000);
    runs.put(written);
    await runs.written(written);
    // Its ending is in memory; its file write has not landed (a busy disk, or the moment before a kill -9).
    const pending = ended("pending", 2_000);
    runs.put(pending);
    await runs.rewriteIndex();
    const lines = async () => (await readFile(join(dataDir, "other.index"), "utf8")).split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(await lines()).toEqual(["written"]);
    await runs.written(pending);
    expect(await lines()).toEqual(["written", "pending"]);
  });
});
