/**
 * The environment a step's command sees: a small base (PATH, HOME, locale), the SOP's declared
 * secrets, and variables only as SOP_VAR_*. Bot credentials never reach commands, and no value is
 * ever spliced into command text.
 */
import { readFile } from "node:fs/promises";
import type { VarValue } from "../core/sop/types.ts";

const PASSED_THROUGH = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SHELL", "TERM"];

export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

export function baseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of PASSED_THROUGH) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  out["PATH"] ??= "/usr/local/bin:/usr/bin:/bin";
  return out;
}

export interface CommandEnvInput {
  base: Record<string, string>;
  secrets: Record<string, string>;
  vars: Record<string, VarValue>;
  sop: string;
  runId: string;
  step: string;
  outputFile: string;
}

export function commandEnv(input: CommandEnvInput): Record<string, string> {
  const env: Record<string, string> = { ...input.base, ...input.secrets };
  for (const [name, value] of Object.entries(input.vars)) env[`SOP_VAR_${envName(name)}`] = String(value);
  Object.assign(env, {
    SOP_NAME: input.sop,
    SOP_RUN_ID: input.runId,
    SOP_STEP: input.step,
    SOP_OUTPUT: input.outputFile,
  });
  return env;
}

const OUTPUT_LINE = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/;

/** `name=value` lines a step wrote to $SOP_OUTPUT; other lines are ignored. */
export function parseOutputVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const [, name, value] = OUTPUT_LINE.exec(line) ?? [];
    if (name !== undefined && value !== undefined) vars[name] = value;
  }
  return vars;
}

export async function readOutputVars(file: string): Promise<Record<string, string>> {
  try {
    return parseOutputVars(await readFile(file, "utf8"));
  } catch {
    return {};
  }
}
