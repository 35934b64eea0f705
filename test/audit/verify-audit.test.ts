import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditFilePath } from "../../src/audit/audit-path.ts";
import { GENESIS_HASH, sealRecord } from "../../src/audit/hash-record.ts";
import { verifyAuditDir } from "../../src/audit/verify-audit.ts";
import type { ChainHead } from "../../src/audit/verify-audit.ts";
import { writeJsonAtomic } from "../../src/audit/write-audit-file.ts";

const SOPS = ["backup", "deploy"] as const;

let logs: string;
let heads: Map<string, ChainHead>;
/** Absolute paths of each SOP's final records, index 0 = seq 1. */
let paths: Record<string, string[]>;

function runRecord(sop: string, n: number): Record<string, unknown> {
  const start = new Date(Date.UTC(2026, 1, 25, 13, n, 0, n));
  return {
    sop, version: "1.0.0", run_id: `${sop}-run-${n}`, started_at: start.toISOString(),
    completed_at: new Date(start.getTime() + 60_000).toISOString(), status: "success",
    vars: { version: `1.2.${n}` },
    steps: [{ number: 1, title: "Run Tests", status: "success", exit_code: 0, output: "All tests passed" }],
  };
}

async function writeRecord(record: Record<string, unknown>): Promise<string> {
  const path = auditFilePath(logs, String(record.sop), new Date(String(record.started_at)), String(record.run_id));
  await writeJsonAtomic(path, record, { what: "audit file" });
  return path;
}

const rel = (sop: string, seq: number): string => join("sop", sop, basename(file(sop, seq)));
const file = (sop: string, seq: number): string => paths[sop]?.[seq - 1] ?? "";
const load = async (path: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
const save = (path: string, value: unknown): Promise<void> => writeFile(path, JSON.stringify(value, null, 2));

beforeEach(async () => {
  logs = await mkdtemp(join(tmpdir(), "sop-audit-"));
  heads = new Map();
  paths = {};
  for (const sop of SOPS) {
    let prevHash = GENESIS_HASH;
    paths[sop] = [];
    for (let seq = 1; seq <= 5; seq++) {
      const sealed = sealRecord(runRecord(sop, seq), { seq, prevHash });
      paths[sop].push(await writeRecord(sealed));
      prevHash = sealed.hash;
      heads.set(sop, { seq, hash: sealed.hash });
    }
  }
  await writeRecord({ ...runRecord("deploy", 6), status: "awaiting_approval", completed_at: undefined });
});

afterEach(async () => {
  await rm(logs, { recursive: true, force: true });
});

describe("verifyAuditDir", () => {
  it("finds nothing wrong in untouched chains and counts records in progress apart", async () => {
    expect(await verifyAuditDir(logs, { heads })).toEqual({ sops: 2, records: 10, inProgress: 1, problems: [] });
  });

  it("names only the record whose field was edited, with its seq", async () => {
    const record = await load(file("deploy", 3));
    await save(file("deploy", 3), { ...record, status: "failed" });
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems).toEqual([{ sop: "deploy", file: rel("deploy", 3), seq: 3, kind: "edited", message: `${rel("deploy", 3)} (seq 3) was edited: its content no longer matches its hash` }]);
  });

  it("names a deleted record as missing between its neighbours", async () => {
    await rm(file("backup", 3));
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems).toEqual([{ sop: "backup", seq: 3, kind: "missing", message: `record seq 3 of backup is missing (between ${rel("backup", 2)} and ${rel("backup", 4)})` }]);
  });

  it("names missing records at the start of a chain", async () => {
    await rm(file("deploy", 1));
    await rm(file("deploy", 2));
    const { problems } = await verifyAuditDir(logs);
    expect(problems).toEqual([{ sop: "deploy", seq: 1, kind: "missing", message: `records seq 1 to 2 of deploy are missing (before ${rel("deploy", 3)})` }]);
  });

  it("names both files when the contents of two were swapped", async () => {
    const [two, four] = [await readFile(file("deploy", 2)), await readFile(file("deploy", 4))];
    await writeFile(file("deploy", 2), four);
    await writeFile(file("deploy", 4), two);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems.map((p) => [p.kind, p.file, p.seq])).toEqual([
      ["misnamed", rel("deploy", 2), 4],
      ["misnamed", rel("deploy", 4), 2],
    ]);
    expect(problems[0]?.message).toBe(`${rel("deploy", 2)} holds run deploy-run-4 started at ${String(runRecord("deploy", 4).started_at)}, whose file name is ${basename(file("deploy", 4))}`);
  });

  it("names records reordered by rewriting their seqs as edited, and no intact record", async () => {
    const [two, three] = [await load(file("deploy", 2)), await load(file("deploy", 3))];
    await save(file("deploy", 2), { ...two, seq: 3 });
    await save(file("deploy", 3), { ...three, seq: 2 });
    const { problems } = await verifyAuditDir(logs, { heads });
    const edited = problems.filter((p) => p.kind === "edited").map((p) => p.file);
    expect(edited.sort()).toEqual([rel("deploy", 2), rel("deploy", 3)].sort());
    expect(problems.every((p) => p.file === rel("deploy", 2) || p.file === rel("deploy", 3))).toBe(true);
  });

  it("names the next record as out of order when one was replaced by a re-sealed forgery", async () => {
    const forged = sealRecord({ ...runRecord("deploy", 3), status: "failed" }, { seq: 3, prevHash: String((await load(file("deploy", 2))).hash) });
    await save(file("deploy", 3), forged);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems).toEqual([{
      sop: "deploy", file: rel("deploy", 4), seq: 4, kind: "out_of_order",
      message: `${rel("deploy", 4)} (seq 4) is out of order: its prev_hash does not match the hash of seq 3 (${rel("deploy", 3)})`,
    }]);
  });

  it("names a removed tail as truncated when the store's chain head is given", async () => {
    await rm(file("deploy", 5));
    await rm(file("deploy", 4));
    expect((await verifyAuditDir(logs)).problems).toEqual([]);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems).toEqual([{ sop: "deploy", seq: 4, kind: "truncated", message: `records after seq 3 of deploy are missing (the last is ${rel("deploy", 3)}); the store's chain head is seq 5` }]);
  });

  it("names an SOP whose whole folder is gone as truncated", async () => {
    await rm(join(logs, "sop", "backup"), { recursive: true });
    const report = await verifyAuditDir(logs, { heads });
    expect(report.sops).toBe(2);
    expect(report.problems).toEqual([{ sop: "backup", seq: 1, kind: "truncated", message: "no final record of backup is left; the store's chain head is seq 5" }]);
  });

  it("names a last record that was re-sealed as differing from the store's chain head", async () => {
    const forged = sealRecord({ ...runRecord("deploy", 5), status: "failed" }, { seq: 5, prevHash: String((await load(file("deploy", 4))).hash) });
    await save(file("deploy", 5), forged);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems.map((p) => [p.kind, p.file, p.seq])).toEqual([["edited", rel("deploy", 5), 5]]);
  });

  it("names a file that is not valid JSON as unreadable, and its seq as missing", async () => {
    await writeFile(file("backup", 2), '{ "sop": "backup", ');
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems.map((p) => [p.kind, p.file ?? null, p.seq ?? null])).toEqual([
      ["unreadable", rel("backup", 2), null],
      ["missing", null, 2],
    ]);
    expect(problems[0]?.message).toMatch(new RegExp(`^${rel("backup", 2).replace(/[.\\]/g, "\\$&")} cannot be read as an audit record \\(.+\\)$`));
  });

  it("names a record moved to another SOP's folder as misnamed and keeps its own chain whole", async () => {
    await rename(file("deploy", 2), join(logs, "sop", "backup", basename(file("deploy", 2))));
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems).toEqual([{
      sop: "backup", file: join("sop", "backup", basename(file("deploy", 2))), seq: 2, kind: "misnamed",
      message: `${join("sop", "backup", basename(file("deploy", 2)))} holds a record of SOP deploy but lies in the folder of backup`,
    }]);
  });

  it("names a copied record as misnamed and as a duplicate seq", async () => {
    const copy = join(logs, "sop", "deploy", "20260101T000000000Z-copy.json");
    await cp(file("deploy", 2), copy);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems.map((p) => [p.kind, p.file, p.seq])).toEqual([
      ["misnamed", join("sop", "deploy", basename(copy)), 2],
      ["out_of_order", join("sop", "deploy", basename(copy)), 2],
    ]);
  });

  it("names a first record whose prev_hash is not the genesis hash", async () => {
    await save(file("deploy", 1), sealRecord(runRecord("deploy", 1), { seq: 1, prevHash: "1".repeat(64) }));
    const { problems } = await verifyAuditDir(logs);
    expect(problems.map((p) => [p.kind, p.file, p.seq])).toEqual([
      ["out_of_order", rel("deploy", 1), 1],
      ["out_of_order", rel("deploy", 2), 2],
    ]);
  });

  it("names a record whose seal was damaged", async () => {
    const { hash: _hash, ...unsealed } = await load(file("deploy", 4));
    await save(file("deploy", 4), unsealed);
    const { problems } = await verifyAuditDir(logs, { heads });
    expect(problems.map((p) => [p.kind, p.file, p.seq])).toEqual([["edited", rel("deploy", 4), 4]]);
    expect(problems[0]?.message).toContain("its seal is damaged");
  });

  it("skips temp files and other dot files", async () => {
    await writeFile(join(logs, "sop", "deploy", `.${basename(file("deploy", 1))}.123.abc.tmp`), "{ half");
    await mkdir(join(logs, "sop", ".trash"));
    await writeFile(join(logs, "sop", ".trash", "x.json"), "nope");
    expect((await verifyAuditDir(logs, { heads })).problems).toEqual([]);
  });

  it("reports an empty log for a folder without records, and throws for a folder that does not exist", async () => {
    const empty = await mkdtemp(join(tmpdir(), "sop-audit-empty-"));
    try {
      expect(await verifyAuditDir(empty)).toEqual({ sops: 0, records: 0, inProgress: 0, problems: [] });
    } finally {
      await rm(empty, { recursive: true });
    }
    await expect(verifyAuditDir(join(logs, "nope"))).rejects.toThrow(`cannot verify the audit log: ${join(logs, "nope")} does not exist or is not a folder`);
    await expect(verifyAuditDir(file("deploy", 1))).rejects.toThrow(/is not a folder/);
  });
});
