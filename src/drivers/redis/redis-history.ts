/**
 * History on Redis: pages newest first from the history indexes (see lua/history-index.lua), prune of
 * ended runs (lua/prune.lua), and the one-time indexing of runs stored before the indexes existed.
 */
import { compareNewestFirst, decodeCursor, encodeCursor, type RunPlace } from "../../core/run/run-cursor.ts";
import { RUN_STATUSES, type RunState, type RunStatus } from "../../core/run/run-state.ts";
import type { PruneQuery, RunPage, RunPageQuery } from "../../ports/run-store.ts";
import type { RedisClient } from "./redis-connection.ts";
import type { RedisKeys } from "./redis-keys.ts";
import { queueScript } from "./scripts.ts";

/** How many batches of ended runs one prune looks through for runs it may remove. */
const PRUNE_LOOKAHEAD = 10;

/**
 * `RunStore.page`: per index that the filter names (all runs, the SOP's, a status across SOPs, or
 * the SOP's status), the limit + 1 newest places after the cursor, merged; then the states in
 * one round trip.
 */
export async function pageRuns(redis: RedisClient, keys: RedisKeys, query: RunPageQuery): Promise<RunPage> {
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw new RangeError(`a page holds at least 1 run, not ${query.limit}`);
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const k = keys;
  const { sop, statuses } = query;
  const indexes = statuses === undefined
    ? [sop === undefined ? k.runs : k.sopRuns(sop)]
    : statuses.map((status) => (sop === undefined ? k.anyStatus(status) : k.status(sop, status)));
  // Per index, the limit + 1 newest places after the cursor (its own score's ties read apart:
  // they are few, and only some of them are after it); merged, they are the page and whether more follow.
  const want = query.limit + 1;
  // One MULTI, not a pipeline: a run moving from one status index to another between two reads would be in neither.
  const reads = redis.multi();
  for (const key of indexes) {
    if (cursor === undefined) reads.zrevrangebyscore(key, "+inf", "-inf", "WITHSCORES", "LIMIT", 0, want);
    else {
      reads.zrangebyscore(key, cursor.queuedAt, cursor.queuedAt, "WITHSCORES");
      reads.zrevrangebyscore(key, `(${cursor.queuedAt}`, "-inf", "WITHSCORES", "LIMIT", 0, want);
    }
  }
  const places: RunPlace[] = [];
  for (const [error, reply] of (await reads.exec()) ?? []) {
    if (error) throw error;
    for (const [id, queuedAt] of scored(reply as string[])) {
      const place = { id, queuedAt };
      if (cursor === undefined || compareNewestFirst(place, cursor) > 0) places.push(place);
    }
  }
  const chosen = [...new Map(places.map((p) => [p.id, p])).values()].sort(compareNewestFirst).slice(0, want);
  const more = chosen.length > query.limit;
  if (more) chosen.pop();
  const last = chosen[chosen.length - 1];
  const runs = await states(redis, keys, chosen.map((p) => p.id), statuses);
  return more && last !== undefined ? { runs, next: encodeCursor(last) } : { runs };
}

/** `RunStore.prune`: candidates from the ended index by end time, each removed by lua/prune.lua, which checks again. */
export async function pruneRuns(redis: RedisClient, keys: RedisKeys, query: PruneQuery): Promise<{ runId: string; sop: string }[]> {
  const k = keys;
  const pruned: { runId: string; sop: string }[] = [];
  // Runs not yet prunable (audit file not known written) may be first in line: look past them, within bounds.
  for (let offset = 0; pruned.length < query.limit && offset < query.limit * PRUNE_LOOKAHEAD; offset += query.limit) {
    const ids = await redis.zrangebyscore(k.ended, "-inf", `(${query.endedBefore}`, "LIMIT", offset, query.limit);
    if (ids.length === 0) break;
    const reads = redis.pipeline();
    for (const id of ids) reads.hmget(k.run(id), "sop", "status");
    const found = ((await reads.exec()) ?? []).map(([error, reply], i) => {
      if (error) throw error;
      const [sop, status] = reply as (string | null)[];
      return { id: ids[i] ?? "", sop, status };
    });
    const batch = redis.pipeline();
    const tried: { runId: string; sop: string }[] = [];
    for (const { id, sop, status } of found) {
      if (sop == null || status == null) {
        // Its hash is gone (removed by hand, or pruned by an older version): nothing to prune, only its place in line.
        batch.zrem(k.ended, id);
        continue;
      }
      if (pruned.length + tried.length >= query.limit) continue;
      tried.push({ runId: id, sop });
      queueScript(batch, "prune", [
        k.run(id), k.audited, k.claim(id), k.runs, k.sopRuns(sop), k.status(sop, status as RunStatus), k.anyStatus(status as RunStatus),
        k.ended, k.sealed(sop), k.deadlines, k.line(sop), k.blocked(sop),
        k.chat("slack", id), k.chatClaim("slack", id), k.chat("discord", id), k.chatClaim("discord", id),
      ], [id, sop, status, query.endedBefore]);
    }
    if (batch.length === 0) continue;
    const replies = (await batch.exec()) ?? [];
    const outcomes = replies.slice(replies.length - tried.length);
    for (const [error] of replies) if (error) throw error;
    outcomes.forEach(([, reply], i) => {
      const run = tried[i];
      if (reply === 1 && run !== undefined) pruned.push(run);
    });
    // What was pruned, or found never prunable, left the index: the next batch starts where the runs left alone end.
    offset -= replies.length - outcomes.length + outcomes.filter(([, reply]) => reply === 1 || reply === -1).length;
  }
  return pruned;
}

/**
 * Indexes the history of runs stored before the history indexes existed (an upgrade), once per
 * deployment; idempotent, so processes that start together may all do it.
 */
export async function indexHistory(redis: RedisClient, keys: RedisKeys): Promise<void> {
  const k = keys;
  if ((await redis.exists(k.historyIndexed)) === 1) return;
  for (const sop of await redis.smembers(k.sops)) {
    for (const status of RUN_STATUSES) {
      const entries = scored(await redis.zrange(k.status(sop, status), "0", "-1", "WITHSCORES"));
      for (let i = 0; i < entries.length; i += 500) {
        const batch = redis.pipeline();
        for (const [id, queuedAt] of entries.slice(i, i + 500)) queueIndex(batch, keys, id, sop, queuedAt);
        for (const [error] of (await batch.exec()) ?? []) if (error) throw error;
      }
    }
  }
  await redis.set(k.historyIndexed, "1");
}

/** Queues lua/index.lua for a run on a pipeline (admit.lua and update.lua index the runs they change themselves). */
export function queueIndex(batch: object, keys: RedisKeys, id: string, sop: string, queuedAt: number): void {
  const k = keys;
  queueScript(batch, "index", [k.run(id), k.runs, k.sopRuns(sop), k.ended, ...RUN_STATUSES.map((s) => k.anyStatus(s))], [id, sop, queuedAt, ...RUN_STATUSES]);
}

/** The states of these runs in this order, read in one round trip; runs gone, or no longer in `statuses`, left out. */
async function states(redis: RedisClient, keys: RedisKeys, ids: readonly string[], statuses?: readonly RunStatus[]): Promise<RunState[]> {
  if (ids.length === 0) return [];
  const reads = redis.pipeline();
  for (const id of ids) reads.hget(keys.run(id), "run");
  const found: RunState[] = [];
  for (const [error, reply] of (await reads.exec()) ?? []) {
    if (error) throw error;
    if (typeof reply !== "string") continue;
    const run = JSON.parse(reply) as RunState;
    if (statuses === undefined || statuses.includes(run.status)) found.push(run);
  }
  return found;
}

/** A WITHSCORES reply, `[member, score, member, score, …]`, as pairs. */
export function scored(flat: readonly string[]): [member: string, score: number][] {
  const pairs: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = flat[i];
    const score = flat[i + 1];
    if (member !== undefined && score !== undefined) pairs.push([member, Number(score)]);
  }
  return pairs;
}
