import { readFileSync } from "node:fs";
import type { RedisClient } from "./redis-connection.ts";

/**
 * The run store's Lua scripts (in `./lua`, each with a header naming its KEYS, ARGV and
 * returns). Every check-and-change of the store is one of them, so it is atomic across
 * processes. `keys` is the fixed key count; `undefined` means the caller passes it first
 * (scripts that take one key per run status). `after` names chunks of shared definitions put,
 * in order, before the script's own source (Redis scripts have no `require`).
 */
/** What the scripts that move a run's history indexes put first. */
const HISTORY = ["run-statuses.lua", "history-index.lua"] as const;

const SCRIPTS = {
  admit: { file: "admit.lua", keys: undefined, after: HISTORY },
  update: { file: "update.lua", keys: undefined, after: HISTORY },
  claim: { file: "claim.lua", keys: 1 },
  unclaim: { file: "unclaim.lua", keys: 1 },
  index: { file: "index.lua", keys: undefined, after: HISTORY },
  prune: { file: "prune.lua", keys: 16, after: ["run-statuses.lua"] },
  markAudited: { file: "mark-audited.lua", keys: 1 },
  count: { file: "count.lua", keys: undefined },
} satisfies Record<string, { file: string; keys: number | undefined; after?: readonly string[] }>;

export type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number;

// Read once per process: the files ship beside this module and never change while it runs.
const readLua = (file: string): string => readFileSync(new URL(`./lua/${file}`, import.meta.url), "utf8");
const sources = new Map<ScriptName, string>(
  (Object.keys(SCRIPTS) as ScriptName[]).map((name) => {
    const script: { file: string; after?: readonly string[] } = SCRIPTS[name];
    return [name, [...(script.after ?? []), script.file].map(readLua).join("\n")];
  }),
);

const commandName = (name: ScriptName): string => `sop_${name}`;

/**
 * Registers the scripts on a connection (ioredis sends EVALSHA and falls back to EVAL once
 * after a Redis restart flushed the script cache).
 */
export function defineScripts(redis: RedisClient): void {
  for (const [name, lua] of sources) {
    const keys = SCRIPTS[name].keys;
    redis.defineCommand(commandName(name), keys === undefined ? { lua } : { lua, numberOfKeys: keys });
  }
}

/** Runs a script registered by `defineScripts` on this connection. */
export function runScript(redis: RedisClient, name: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
  return callScript(redis, name, keys, args) as Promise<unknown>;
}

/**
 * Queues a script on a pipeline or MULTI of a connection that `defineScripts` registered it on
 * (ioredis loads missing scripts before the batch runs).
 */
export function queueScript<P extends object>(batch: P, name: ScriptName, keys: readonly string[], args: readonly Arg[]): P {
  callScript(batch, name, keys, args);
  return batch;
}

function callScript(target: object, name: ScriptName, keys: readonly string[], args: readonly Arg[]): unknown {
  const command = (target as Record<string, ((...a: Arg[]) => unknown) | undefined>)[commandName(name)];
  if (command === undefined) throw new Error(`Redis script ${name} is not defined on this connection; call defineScripts first`);
  const expected = SCRIPTS[name].keys;
  if (expected !== undefined && keys.length !== expected) {
    throw new Error(`Redis script ${name} takes ${expected} keys, got ${keys.length}`);
  }
  const head: Arg[] = expected === undefined ? [keys.length, ...keys] : [...keys];
  return command.call(target, ...head, ...args);
}
