import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/audit/canonical-json.ts";
import { auditFilePath, auditTimestamp } from "../../src/audit/audit-path.ts";
import { GENESIS_HASH, hashRecord, sealRecord } from "../../src/audit/hash-record.ts";
import { sharedSyncs, writeJsonAtomic } from "../../src/audit/write-audit-file.ts";

const record = {
  sop: "deploy-production",
  run_id: "r1",
  started_at: "2026-02-25T13:00:00.000Z",
  status: "success",
  vars: { version: "1.2.3" },
  steps: [{ number: 1, title: "Run Tests", status: "success", output: "All tests passed" }],
};

describe("hashRecord and sealRecord", () => {
  it("uses 64 zeros as the genesis hash", () => {
    expect(GENESIS_HASH).toBe("0".repeat(64));
  });

  it("hashes the canonical JSON of the record with SHA-256", () => {
    const expected = createHash("sha256").update(canonicalJson(record)).digest("hex");
    expect(hashRecord(record)).toBe(expected);
  });

  it("leaves the hash member out of the hash and ignores key order", () => {
    const reordered = { steps: record.steps, vars: record.vars, status: "success", started_at: record.started_at, run_id: "r1", sop: record.sop };
    expect(hashRecord({ ...reordered, hash: "f".repeat(64) })).toBe(hashRecord(record));
  });

  it("changes when any field changes", () => {
    expect(hashRecord({ ...record, status: "failed" })).not.toBe(hashRecord(record));
  });

  it("seals a record with seq, prev_hash and a hash over both, without touching the input", () => {
    const input = structuredClone(record);
    const sealed = sealRecord(input, { seq: 1, prevHash: GENESIS_HASH });
    expect(sealed).toMatchObject({ ...record, seq: 1, prev_hash: GENESIS_HASH });
    expect(sealed.hash).toBe(hashRecord(sealed));
    expect(input).toEqual(record);
  });

  it("links each record to the hash of the one before", () => {
    const first = sealRecord(record, { seq: 1, prevHash: GENESIS_HASH });
    const second = sealRecord({ ...record, run_id: "r2" }, { seq: 2, prevHash: first.hash });
    expect(second.prev_hash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
  });

  it("gives the same hash after the record went through a pretty-printed file", () => {
    const sealed = sealRecord(record, { seq: 7, prevHash: "a".repeat(64) });
    const reread = JSON.parse(JSON.stringify(sealed, null, 2)) as Record<string, unknown>;
    expect(hashRecord(reread)).toBe(sealed.hash);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses to seal with seq %s", (seq) => {
    expect(() => sealRecord(record, { seq, prevHash: GENESIS_HASH })).toThrow(RangeError);
  });

  it("refuses to seal with a prev hash that is not SHA-256 hex", () => {
    expect(() => sealRecord(record, { seq: 2, prevHash: "ABC" })).toThrow(/prev hash must be 64 lowercase hex digits/);
  });
});

describe("audit file paths", () => {
  it("formats the start as YYYYMMDDTHHMMSSmmmZ in UTC", () => {
    expect(auditTimestamp(new Date("2026-02-25T13:00:00.000Z"))).toBe("20260225T130000000Z");
    expect(auditTimestamp(new Date("2026-02-25T14:04:05.007+01:00"))).toBe("20260225T130405007Z");
  });

  it("refuses an invalid date", () => {
    expect(() => auditTimestamp(new Date("nope"))).toThrow(RangeError);
  });

  it("puts a run's record under sop/<name>/<timestamp>-<run id>.json", () => {
    expect(auditFilePath("/logs", "deploy-production", new Date("2026-02-25T13:00:00Z"), "r1"))
      .toBe(join("/logs", "sop", "deploy-production", "20260225T130000000Z-r1.json"));
  });

  it.each([["..", "r1"], ["a/b", "r1"], ["deploy", "../../etc"], ["deploy", ""]])(
    "refuses names that would leave the audit tree (%s, %s)",
    (sop, runId) => {
      expect(() => auditFilePath("/logs", sop, new Date(0), runId)).toThrow(/not a valid file name part/);
    },
  );
});

describe("writeJsonAtomic", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sop-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates missing folders and writes pretty JSON with a trailing newline", async () => {
    const path = join(dir, "a", "b", "x.json");
    await writeJsonAtomic(path, { b: 1, a: [true] });
    expect(await readFile(path, "utf8")).toBe('{\n  "b": 1,\n  "a": [\n    true\n  ]\n}\n');
  });

  it("replaces an existing file and leaves no temp file behind", async () => {
    const path = join(dir, "x.json");
    await writeJsonAtomic(path, { v: 1 });
    await writeJsonAtomic(path, { v: 2 });
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ v: 2 });
    expect(await readdir(dir)).toEqual(["x.json"]);
  });

  it("never lets a reader see a half-written file", async () => {
    const path = join(dir, "big.json");
    const big = (n: number) => ({ n, lines: Array.from({ length: 20_000 }, (_, i) => `line ${i} of write ${n} ${"x".repeat(n % 2 ? 40 : 90)}`) });
    await writeJsonAtomic(path, big(0));
    let done = false;
    let writes = 0;
    // A named function, not an IIFE: the compiler reads an IIFE's body as run inline, where done is still false.
    const writeUntilDone = async (): Promise<void> => {
      while (!done) await writeJsonAtomic(path, big(++writes));
    };
    const writer = writeUntilDone();
    const failures: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const text = await readFile(path, "utf8");
        try {
          JSON.parse(text);
        } catch (error) {
          failures.push(`read ${i} (${text.length} chars): ${(error as Error).message}`);
        }
      }
    } finally {
      done = true;
      await writer;
    }
    expect(failures).toEqual([]);
    expect(writes).toBeGreaterThan(1);
  });

  it("names the path and the cause when a parent is a file, and creates nothing", async () => {
    await writeFile(join(dir, "plain-file"), "not a folder");
    const path = join(dir, "plain-file", "sop", "x.json");
    const error = await writeJsonAtomic(path, { v: 1 }, { what: "audit file" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^cannot write audit file ${escape(path)}: (ENOTDIR|EEXIST)`));
    expect(await readdir(dir)).toEqual(["plain-file"]);
  });

  it("removes its temp file when the final rename fails", async () => {
    const path = join(dir, "x.json");
    await mkdir(path);
    await writeFile(join(path, "keep"), "");
    const error = await writeJsonAtomic(path, { v: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(new RegExp(`^cannot write file ${escape(path)}: E[A-Z]+: [^,]+$`));
    expect(await readdir(dir)).toEqual(["x.json"]);
  });

  it("refuses a value with no JSON form before touching the disk", async () => {
    const path = join(dir, "new", "x.json");
    await expect(writeJsonAtomic(path, { n: 1n })).rejects.toThrow(`cannot write file ${path}: `);
    await expect(writeJsonAtomic(path, undefined)).rejects.toThrow(/has no JSON form/);
    expect(await readdir(dir)).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("sharedSyncs", () => {
  /** A folder fsync that ends when the test says so. */
  function fakeSync() {
    const begun: { dir: string; end: () => void }[] = [];
    const sync = (dir: string) => new Promise<void>((resolve) => begun.push({ dir, end: resolve }));
    return { begun, sync };
  }
  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    // Enough turns of the microtask queue for every chained callback to run.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return done;
  };

  it("resolves each caller only after an fsync that began after its call, sharing the next one among those who wait", async () => {
    const { begun, sync } = fakeSync();
    const syncDir = sharedSyncs(sync);
    const a = syncDir("/logs/x");
    expect(begun).toHaveLength(1);
    // B and C ask while A's fsync runs: it may have begun before their renames.
    const b = syncDir("/logs/x");
    const c = syncDir("/logs/x");
    expect(begun).toHaveLength(1);
    begun[0]!.end();
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(false);
    expect(begun).toHaveLength(2);
    // D asks while the shared fsync runs: it gets the one after.
    const d = syncDir("/logs/x");
    begun[1]!.end();
    expect(await settled(b)).toBe(true);
    expect(await settled(c)).toBe(true);
    expect(await settled(d)).toBe(false);
    expect(begun).toHaveLength(3);
    begun[2]!.end();
    expect(await settled(d)).toBe(true);
    // Another folder is never covered by this one's fsync.
    void syncDir("/logs/y");
    expect(begun.map((s) => s.dir)).toEqual(["/logs/x", "/logs/x", "/logs/x", "/logs/y"]);
  });

  it("lets a caller go on when the folder cannot be synced (best effort, like a single sync)", async () => {
    const syncDir = sharedSyncs(() => Promise.reject(new Error("EINVAL")));
    await expect(syncDir("/logs/x")).resolves.toBeUndefined();
  });
});
