/**
 * `<DATA_DIR>/server.json`: where a running `sop serve` listens and, when it generated its own
 * token, that token (like Jupyter's runtime files). The file is readable by its owner only; the
 * CLI of the same user finds the server and logs in with it, with nothing to copy by hand.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface ServerFile {
  url: string;
  pid: number;
  /** Only when the server generated its token (no API_TOKENS). */
  token?: string;
}

export const serverFilePath = (dataDir: string): string => join(dataDir, "server.json");

export async function writeServerFile(dataDir: string, info: ServerFile): Promise<void> {
  const path = serverFilePath(dataDir);
  // With Redis nothing else needs DATA_DIR, so it may not exist yet.
  await mkdir(dataDir, { recursive: true });
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  await rename(temp, path);
}

export async function removeServerFile(dataDir: string): Promise<void> {
  await rm(serverFilePath(dataDir), { force: true });
}

/** The file of a live server, or undefined (missing, unreadable, or left by a dead process). */
export function readServerFile(dataDir: string): ServerFile | undefined {
  try {
    const value = JSON.parse(readFileSync(serverFilePath(dataDir), "utf8")) as Partial<ServerFile>;
    if (typeof value.url !== "string" || typeof value.pid !== "number") return undefined;
    if (!isAlive(value.pid)) return undefined;
    return { url: value.url, pid: value.pid, ...(typeof value.token === "string" ? { token: value.token } : {}) };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
