import { readFileSync, unlinkSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../../audit/write-audit-file.ts";

export interface DataDirLock {
  /** Removes the lock file if it still names this holder. Idempotent. */
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  owner: string;
  since: string;
}

/** Another live process holds the data folder: two writers would corrupt the run files. */
export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
  readonly code = "DATA_DIR_LOCKED";

  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly owner: string,
    readonly since: string,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by process ${pid} (${owner}) since ${since}; ` +
        `stop it, or with a running "sop serve" use its HTTP API (SOP_SERVER_URL)`,
    );
  }
}

const MAX_ATTEMPTS = 5;

/**
 * Makes this process the only one using `dataDir` (created if missing): `<dataDir>/LOCK` holds
 * `{ pid, owner, since }`. A lock left by a dead process, or one that is unreadable, is taken
 * over. Throws `DataDirLockedError` while a live process holds it. The lock is also dropped when
 * the process exits without calling `release`.
 */
export async function lockDataDir(dataDir: string, owner: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  // Only a folder DATA_DIR creates itself is made private; one the operator chose keeps its mode.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, "LOCK");
  const me: Holder = { pid: process.pid, owner, since: new Date().toISOString() };
  await acquire(dir, path, me);

  let released = false;
  const onExit = (): void => {
    released = true;
    try {
      if (isSame(parseHolder(readFileSync(path, "utf8")), me)) unlinkSync(path);
    } catch {
      // best effort: the process is going away, and a stale lock is taken over next time
    }
  };
  process.on("exit", onExit);
  return {
    async release() {
      if (released) return;
      released = true;
      process.off("exit", onExit);
      if (isSame(await readHolder(path), me)) await rm(path, { force: true });
    },
  };
}

/** The live process holding `dataDir`, if any (read without taking the lock). */
export async function dataDirHolder(dataDir: string): Promise<{ pid: number; owner: string; since: string } | undefined> {
  const holder = await readHolder(join(resolve(dataDir), "LOCK"));
  return typeof holder === "object" && isAlive(holder.pid) ? holder : undefined;
}

async function acquire(dir: string, path: string, me: Holder): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await createExclusive(path, me)) return;
    const holder = await readHolder(path);
    if (holder === "gone") continue;
    if (holder !== "junk" && isAlive(holder.pid)) throw new DataDirLockedError(dir, holder.pid, holder.owner, holder.since);
    // Replace rather than delete-and-create, so there is never a moment without a lock file;
    // reading it back catches another process that took it over at the same moment.
    await writeJsonAtomic(path, me, { what: "data folder lock" });
    if (isSame(await readHolder(path), me)) return;
  }
  throw new Error(`cannot lock DATA_DIR ${dir}: ${path} kept changing while other processes started; try again`);
}

async function createExclusive(path: string, me: Holder): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new Error(`cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await handle.writeFile(`${JSON.stringify(me)}\n`, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readHolder(path: string): Promise<Holder | "junk" | "gone"> {
  try {
    return parseHolder(await readFile(path, "utf8"));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : "junk";
  }
}

function parseHolder(text: string): Holder | "junk" {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "junk";
  }
  if (typeof value !== "object" || value === null) return "junk";
  const { pid, owner, since } = value as Record<string, unknown>;
  // pid 0 and negative pids name process groups for kill(), never a single holder.
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return "junk";
  return { pid, owner: typeof owner === "string" ? owner : "unknown", since: typeof since === "string" ? since : "an unknown time" };
}

function isSame(holder: Holder | "junk" | "gone", me: Holder): boolean {
  return typeof holder === "object" && holder.pid === me.pid && holder.since === me.since && holder.owner === me.owner;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user; only ESRCH says nobody has that pid.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
