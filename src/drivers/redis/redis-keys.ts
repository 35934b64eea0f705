import type { RunStatus } from "../../core/run/run-state.ts";
import type { Platform } from "../../ports/message-ledger.ts";

/**
 * Every Redis key and channel of one deployment, under its key prefix. BullMQ's queue keys
 * (`<p>:jobs:*`) live under the same prefix, so `<p>:*` is the whole deployment.
 *
 * The key prefix carries a hash tag (`{sop}`), so every key of a deployment hashes to one slot:
 * the Lua scripts, MGET and pipelines that span several keys run unchanged on a Redis Cluster
 * (and behind proxies that shard), as BullMQ documents for its own prefix.
 */
export interface RedisKeys {
  /** The key prefix itself, hash tag included, e.g. `{sop}`. */
  prefix: string;
  /**
   * Hash: run (RunState JSON), rev, status, sop, order (line score), max (max_concurrent of the
   * pinned definition), dir, def (sha256), and once ended seal and record (the final audit record).
   */
  run(id: string): string;
  /** String `<until>|<owner>`: who drives the run (see lua/claim.lua). */
  claim(id: string): string;
  /** String: a definition's JSON, shared by every run that pinned it (content-addressed). */
  definition(sha256: string): string;
  /** Set: names of the SOPs that have runs. */
  sops: string;
  /** Sorted set per SOP and status: run ids scored by queuedAt (what `list` reads). */
  status(sop: string, status: RunStatus): string;
  /** Sorted set: every run, scored by queuedAt (history; see lua/history-index.lua). */
  runs: string;
  /** Sorted set per SOP: its runs, scored by queuedAt. */
  sopRuns(sop: string): string;
  /** Sorted set per status: the runs of every SOP in it, scored by queuedAt. */
  anyStatus(status: RunStatus): string;
  /** Sorted set: ended runs, scored by completedAt (what retention prunes from). */
  ended: string;
  /** Hash: SOP name -> the seq up to which its audit files are written (what prune may remove up to). */
  audited: string;
  /** String: set once the history indexes above cover the runs stored before they existed. */
  historyIndexed: string;
  /** Sorted set: the SOP's queued runs without a slot, scored so that ZRANGE is line order. */
  line(sop: string): string;
  /** Sorted set: the SOP's sealed runs, scored by their seq in its audit chain. */
  sealed(sop: string): string;
  /** Sorted set: queued runs refused a slot, scored like the line: whom a run that ends nudges. */
  blocked(sop: string): string;
  /** String: the SOP's last acceptance, epoch ms (the cooldown's start). */
  last(sop: string): string;
  /** Hash: SOP name -> audit chain head JSON. */
  chains: string;
  /** Sorted set: runs going on that have a deadline, scored by their earliest one (what a sweep re-arms when overdue). */
  deadlines: string;
  /** String: what the chat adapters posted about a run on one platform (JSON, see RedisMessageLedger). */
  chat(platform: Platform, runId: string): string;
  /** String: the bot process that posts a run's messages on one platform now. */
  chatClaim(platform: Platform, runId: string): string;
  /** String: the bare prefix whose keys are being moved here, from the start of that move to its end (see move-legacy-keys.ts). */
  migration: string;
  /** String `<owner>` with a short expiry: the one process moving them now. */
  migrationLock: string;
  /** Pub/sub channel of run events. */
  events: string;
  /** BullMQ queue name; BullMQ's own prefix option is the key prefix. */
  queueName: string;
}

export const DEFAULT_PREFIX = "sop";

/**
 * The key prefix of a deployment from its `SOP_REDIS_PREFIX`: a prefix without a hash tag is
 * wrapped in one (`sop` → `{sop}`), one with a tag (`{sop}`, `acme:{sop}`) is kept as written.
 * Throws a RangeError saying what is wrong for a prefix Redis would not keep in one slot.
 */
export function keyPrefix(prefix: string = DEFAULT_PREFIX): string {
  const problem = prefixProblem(prefix);
  if (problem !== undefined) throw new RangeError(`SOP_REDIS_PREFIX ${JSON.stringify(prefix)} is not usable: ${problem}`);
  return prefix.includes("{") ? prefix : `{${prefix}}`;
}

/** What makes a prefix unusable, in words, or undefined when it is fine. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === "") return "it is empty; leave SOP_REDIS_PREFIX unset for the default, sop";
  if (/[\s*?[\]]/.test(prefix)) return "it must have no spaces or glob characters (* ? [ ])";
  const open = prefix.split("{").length - 1;
  const close = prefix.split("}").length - 1;
  if (open === 0 && close === 0) return undefined;
  if (open !== 1 || close !== 1 || !/\{[^{}]+\}/.test(prefix)) {
    return "braces make a Redis hash tag: write at most one, with something inside (sop, {sop} or acme:{sop}); without braces the prefix is wrapped in one";
  }
  return undefined;
}

/**
 * The prefix this deployment's keys had before they carried a hash tag (`sop` for `sop` or
 * `{sop}`), or undefined when there was none: earlier versions refused braces, so a prefix with
 * a tag inside it (`acme:{sop}`) is new.
 */
export function legacyPrefix(prefix: string = DEFAULT_PREFIX): string | undefined {
  return /^\{([^{}]+)\}$/.exec(keyPrefix(prefix))?.[1];
}

/** The keys of the deployment whose `SOP_REDIS_PREFIX` is `prefix` (see `keyPrefix`). */
export function redisKeys(prefix: string = DEFAULT_PREFIX): RedisKeys {
  return keysUnder(keyPrefix(prefix));
}

/** The key layout under a literal key prefix: the tagged one, or an earlier version's bare one. */
export function keysUnder(base: string): RedisKeys {
  const sop = (name: string): string => `${base}:sop:${name}`;
  const chat = (platform: Platform, runId: string): string => `${base}:chat:${platform}:${runId}`;
  return {
    prefix: base,
    run: (id) => `${base}:run:${id}`,
    claim: (id) => `${base}:claim:${id}`,
    definition: (sha256) => `${base}:def:${sha256}`,
    sops: `${base}:sops`,
    status: (name, status) => `${sop(name)}:status:${status}`,
    runs: `${base}:runs`,
    sopRuns: (name) => `${sop(name)}:runs`,
    anyStatus: (status) => `${base}:status:${status}`,
    ended: `${base}:ended`,
    audited: `${base}:audited`,
    historyIndexed: `${base}:history-indexed`,
    line: (name) => `${sop(name)}:line`,
    sealed: (name) => `${sop(name)}:sealed`,
    blocked: (name) => `${sop(name)}:blocked`,
    last: (name) => `${sop(name)}:last`,
    chains: `${base}:chains`,
    deadlines: `${base}:deadlines`,
    chat,
    chatClaim: (platform, runId) => `${chat(platform, runId)}:claim`,
    migration: `${base}:migration`,
    migrationLock: `${base}:migration:lock`,
    events: `${base}:events`,
    queueName: "jobs",
  };
}
