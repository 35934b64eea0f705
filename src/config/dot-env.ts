/** `.env` (SPEC §6): read at start; variables already in the environment win. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

export function withDotEnv(env: Readonly<Record<string, string | undefined>>, cwd: string): Readonly<Record<string, string | undefined>> {
  let text: string;
  try {
    text = readFileSync(join(cwd, ".env"), "utf8");
  } catch {
    return env;
  }
  // parseEnv rather than process.loadEnvFile: same rules, without changing this process's env.
  return { ...parseEnv(text), ...env };
}
