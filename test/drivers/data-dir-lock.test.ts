import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirLockedError, lockDataDir } from "../../src/drivers/local/data-dir-lock.ts";
import { openLocalDriver } from "../../src/drivers/local/index.ts";

// Far above any pid Linux hands out (pid_max is at most 2^22), so nobody has it.
const DEAD_PID = 2147483646;

let root: string;
let dataDir: string;
const releases: (() => Promise<void>)[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sop-lock-"));
  dataDir = join(root, "data");
});

afterEach(async () => {
  for (const release of releases.splice(0)) await release();
  await rm(root, { recursive: true, force: true });
});

async function lock(owner: string): Promise<void> {
  const held = await lockDataDir(dataDir, owner);
  releases.push(() => held.release());
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
const readLock = async (): Promise<unknown> => JSON.parse(await readFile(join(dataDir, "LOCK"), "utf8"));

describe("lockDataDir", () => {
  it("creates the data folder and a LOCK naming this process", async () => {
    await lock("sop serve");
    expect(await readLock()).toEqual({ pid: process.pid, owner: "sop serve", since: expect.any(String) });
  });

  it("refuses a second holder while the first is alive, naming its pid and owner", async () => {
    await lock("sop serve");
    const second = lockDataDir(dataDir, "sop run");
    await expect(second).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(second).rejects.toThrow(
      new RegExp(`^DATA_DIR ${escape(dataDir)} is in use by process ${process.pid} \\(sop serve\\) since \\d{4}-.*; stop it, or with a running "sop serve" use its HTTP API \\(SOP_SERVER_URL\\)$`),
    );
  });

  it("can be taken again once released", async () => {
    const first = await lockDataDir(dataDir, "sop run");
    await first.release();
    expect(await exists(join(dataDir, "LOCK"))).toBe(false);
    await lock("sop run");
    expect(await readLock()).toMatchObject({ pid: process.pid });
  });

  it("takes over a lock left by a process that is gone", async () => {
    await mkdir(dataDir);
    await writeFile(join(dataDir, "LOCK"), JSON.stringify({ pid: DEAD_PID, owner: "sop serve", since: "2026-01-01T00:00:00.000Z" }));
    await lock("sop run");
    expect(await readLock()).toMatchObject({ pid: process.pid, owner: "sop run" });
  });

  it("takes over a lock file that is unreadable junk", async () => {
    await mkdir(dataDir);
    await writeFile(join(dataDir, "LOCK"), "\0\0 not json");
    await lock("sop run");
    expect(await readLock()).toMatchObject({ pid: process.pid, owner: "sop run" });
  });

  it("leaves alone, on release, a LOCK that no longer names this holder", async () => {
    const held = await lockDataDir(dataDir, "sop run");
    const other = JSON.stringify({ pid: DEAD_PID, owner: "someone else", since: "2026-01-01T00:00:00.000Z" });
    await writeFile(join(dataDir, "LOCK"), other);
    await held.release();
    expect(await readFile(join(dataDir, "LOCK"), "utf8")).toBe(other);
  });

  it("removes the LOCK when the process exits without releasing it", async () => {
    const moduleUrl = pathToFileURL(join(import.meta.dirname, "../../src/drivers/local/data-dir-lock.ts")).href;
    const script = `import { lockDataDir } from ${JSON.stringify(moduleUrl)};
await lockDataDir(${JSON.stringify(dataDir)}, "child");
console.log("locked");`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
    expect(stdout.trim()).toBe("locked");
    expect(await exists(join(dataDir, "LOCK"))).toBe(false);
  });
});

describe("openLocalDriver", () => {
  it("holds the data folder until it is closed", async () => {
    const driver = await openLocalDriver({ dataDir, owner: "sop serve" });
    await expect(openLocalDriver({ dataDir, owner: "sop run" })).rejects.toThrow(/in use by process/);
    await driver.close();
    const again = await openLocalDriver({ dataDir, owner: "sop run" });
    await again.close();
    expect(await exists(join(dataDir, "LOCK"))).toBe(false);
  });
});
