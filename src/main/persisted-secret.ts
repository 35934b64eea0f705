/**
 * Secrets `sop serve` keeps in `<DATA_DIR>/secrets/` so that a restart logs nobody out: the
 * login token it generates without API_TOKENS, and the key that signs web sessions without
 * SOP_SESSION_SECRET. Each is made once (32 random bytes) and read at every later start; the
 * folder is 0700 and the files 0600, like the rest of DATA_DIR. Deleting a file makes a new
 * secret at the next start, which ends what the old one opened.
 */
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateToken } from "../http/auth.ts";

export type SecretName = "login-token" | "session-key";

const secretPath = (dataDir: string, name: SecretName): string => join(dataDir, "secrets", name);

/** The secret stored under `name`, made and stored first when there is none. */
export async function persistedSecret(dataDir: string, name: SecretName): Promise<string> {
  const path = secretPath(dataDir, name);
  const dir = join(dataDir, "secrets");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // A folder or file someone loosened (a copy, an archive restored) is made private again.
  await chmod(dir, 0o700).catch(() => undefined);
  const stored = await readSecret(path);
  if (stored !== undefined) return stored;
  const secret = generateToken();
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${secret}\n`, { mode: 0o600, flag: "wx" });
  try {
    // link, unlike rename, never replaces: of two processes starting at once, the first one's secret counts.
    await link(temp, path);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const other = await readSecret(path);
    if (other === undefined) throw err;
    return other;
  } finally {
    await rm(temp, { force: true });
  }
}

async function readSecret(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  await chmod(path, 0o600).catch(() => undefined);
  const secret = text.trim();
  if (secret === "") throw new Error(`${path} is empty; delete it to make a new one at the next start`);
  return secret;
}
