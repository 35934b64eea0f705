/**
 * The one-time move of a deployment's keys from the layout of earlier versions, under the bare
 * prefix (`sop:run:<id>`), to the layout with a hash tag (`{sop}:run:<id>`) that a Redis Cluster
 * needs. Only on a standalone server (that layout never worked on a cluster) and only by a
 * process that may write; RENAME keeps values and expiries, and nothing is ever overwritten.
 *
 * Safe against the ways it can go wrong:
 * - processes of an earlier version still connected (they would go on writing the old keys):
 *   refused, naming them, when CLIENT LIST shows their connections (`sop:commands`, `sop:events`);
 * - several new processes starting at once: one moves (a lock with a short expiry, renewed as it
 *   goes), the others wait for it;
 * - a move cut short (a crash, a kill): the keys every deployment that ran has (`sops`,
 *   `jobs:meta` …) move last, so the next start finds them and finishes the move;
 * - data under both layouts (this version and an earlier one used at once): refused before
 *   anything moves, saying how to choose.
 * Only keys of the old layout's shapes move, so another deployment whose prefix starts with
 * this one's (`sop:staging`) keeps its keys.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { keysUnder, type RedisKeys } from "./redis-keys.ts";

export interface LegacyMove {
  from: string;
  to: string;
  moved: number;
}

export interface MoveLegacyKeysOptions {
  /** The bare prefix of the old layout, e.g. `sop`. */
  legacy: string;
  /** The deployment's keys now. */
  keys: RedisKeys;
  /** Who holds the lock while moving (shown to whoever waits). */
  owner: string;
  /** A process that only looks moves nothing: old keys make it refuse with what to do. */
  readOnly?: boolean;
  /** Told once when this process waits for another one's move. */
  onWait?: (holder: string) => void;
  /** The lock's expiry (renewed after every batch); default 30 s. A crashed mover's lock ends after it. */
  lockMs?: number;
}

export class LegacyKeysError extends Error {
  override name = "LegacyKeysError";
}

const BATCH = 1_000;
const LOOK_EVERY_MS = 200;
/** Deletes the lock only when it is still ours: it may have expired and been taken since. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/**
 * The key shapes of the old layout, after `<legacy>:` (see redis-keys.ts; BullMQ's are all
 * under `jobs:`). A run id and an SOP name never hold a colon.
 */
const OLD_SHAPES = [
  /^(run|claim):[^:]+$/,
  /^def:[0-9a-f]{64}$/,
  /^(sops|chains|deadlines)$/,
  /^sop:[^:]+:(status:[a-z_]+|line|sealed|blocked|last)$/,
  // The history indexes came after the hash tag; a process of this version that ran on the bare names made them too.
  /^(runs|ended|audited|history-indexed|status:[a-z_]+)$/,
  /^sop:[^:]+:runs$/,
  /^chat:[a-z]+:.+$/,
  /^jobs:.+$/,
];

/** Keys that every deployment that ever ran has, checked at each start and moved last. */
function markers(keys: RedisKeys): string[] {
  return [keys.sops, keys.chains, keys.deadlines, `${keys.prefix}:${keys.queueName}:meta`, `${keys.prefix}:${keys.queueName}:id`];
}

/**
 * Moves the deployment's keys from `<legacy>:*` to the tagged layout when keys of the old layout
 * are there; returns what moved, or undefined when there was nothing to move (every start after
 * the first: a single EXISTS).
 */
export async function moveLegacyKeys(redis: Redis, opts: MoveLegacyKeysOptions): Promise<LegacyMove | undefined> {
  const old = keysUnder(opts.legacy);
  const to = opts.keys;
  const lockMs = opts.lockMs ?? 30_000;
  let told = false;
  for (;;) {
    if ((await redis.exists(...markers(old))) === 0) return undefined;
    if (opts.readOnly) {
      throw new LegacyKeysError(
        `this deployment's Redis keys still have the names of an earlier version (${old.prefix}:*); start \`sop serve\` or \`sop worker\` once, which moves them to ${to.prefix}:*, then run this again`,
      );
    }
    await refuseEarlierVersions(redis, opts.legacy, to.prefix);
    if ((await redis.set(to.migrationLock, opts.owner, "PX", lockMs, "NX")) === "OK") {
      try {
        const resuming = (await redis.get(to.migration)) === opts.legacy;
        if (!resuming) await refuseBothLayouts(redis, old, to);
        await redis.set(to.migration, opts.legacy);
        const moved = await moveAll(redis, old, to, () => redis.pexpire(to.migrationLock, lockMs));
        await redis.del(to.migration);
        return { from: `${old.prefix}:*`, to: `${to.prefix}:*`, moved };
      } finally {
        await redis.eval(RELEASE, 1, to.migrationLock, opts.owner);
      }
    }
    const holder = await redis.get(to.migrationLock);
    if (holder !== null && !told) {
      told = true;
      opts.onWait?.(holder);
    }
    await sleep(LOOK_EVERY_MS);
  }
}

/** Connections an earlier version names `<prefix>:commands` and `<prefix>:events` (every node process has both). */
async function refuseEarlierVersions(redis: Redis, legacy: string, tagged: string): Promise<void> {
  let list: string;
  try {
    list = (await redis.client("LIST")) as string;
  } catch {
    return; // CLIENT LIST not allowed here: the README asks to stop every process before upgrading.
  }
  const base = legacy.replace(/[^A-Za-z0-9_.:-]/g, "_");
  const names = new Set([`${base}:commands`, `${base}:events`]);
  const found = list.split("\n").flatMap((line) => {
    const name = / name=(\S*)/.exec(line)?.[1];
    const addr = / addr=(\S*)/.exec(line)?.[1] ?? "?";
    return name !== undefined && names.has(name) ? [`${name} from ${addr}`] : [];
  });
  if (found.length > 0) {
    throw new LegacyKeysError(
      `processes of an earlier sop-runner version are still connected to this deployment (${found.slice(0, 4).join(", ")}${found.length > 4 ? ", …" : ""}). ` +
      `This version keeps the keys under ${tagged}:* instead of ${legacy}:* and moves them once at start; stop every sop serve, sop worker and sop command of the earlier version, then start this one again`,
    );
  }
}

/** Data under both layouts, and no move of ours under way: which to keep is a person's choice. */
async function refuseBothLayouts(redis: Redis, old: RedisKeys, to: RedisKeys): Promise<void> {
  if ((await redis.exists(...markers(to))) === 0) return;
  throw new LegacyKeysError(
    `this deployment has Redis keys under both ${old.prefix}:* (an earlier version) and ${to.prefix}:* (this version), so nothing was moved. ` +
    `Keep the one you want and delete the other (redis-cli --scan --pattern '${escapeGlob(old.prefix)}:*' lists the old ones), then start again`,
  );
}

/** RENAMENX of every old-layout key, markers last; the number moved. */
async function moveAll(redis: Redis, old: RedisKeys, to: RedisKeys, renewLock: () => Promise<unknown>): Promise<number> {
  const last = new Set(markers(old));
  const lastFound: string[] = [];
  const conflicts: string[] = [];
  let moved = 0;
  const rename = async (keys: readonly string[]): Promise<void> => {
    if (keys.length === 0) return;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.renamenx(key, to.prefix + key.slice(old.prefix.length));
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const [error, reply] = replies[i] ?? [];
      if (error || reply === undefined) return; // gone meanwhile (an expiring claim): nothing to move
      if (reply === 1) moved++;
      else conflicts.push(key);
    });
    await renewLock();
  };
  const isOld = (key: string): boolean => OLD_SHAPES.some((shape) => shape.test(key.slice(old.prefix.length + 1)));
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${escapeGlob(old.prefix)}:*`, "COUNT", BATCH);
    cursor = next;
    const now: string[] = [];
    for (const key of found.filter(isOld)) (last.has(key) ? lastFound : now).push(key);
    await rename(now);
  } while (cursor !== "0");
  await rename(lastFound);
  if (conflicts.length > 0) {
    throw new LegacyKeysError(
      `${conflicts.length} Redis keys of an earlier version could not move because their new names are taken (${conflicts.slice(0, 3).map((k) => `${k} → ${to.prefix}${k.slice(old.prefix.length)}`).join(", ")}); nothing was overwritten. ` +
      `Keep the one of each you want and delete the other, then start again`,
    );
  }
  return moved;
}

function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, "\\$&");
}
