import { createHash, randomBytes } from "node:crypto";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import { nextDeadline } from "../../core/run/apply-event.ts";
import { ACTIVE_STATUSES, RUN_STATUSES, type RunState, type RunStatus } from "../../core/run/run-state.ts";
import type { Priority, SopDefinition } from "../../core/sop/types.ts";
import type {
  Admission, ChainHead, Claim, ClaimWrite, PruneQuery, RunEnding, RunFilter, RunPage, RunPageQuery, RunStore, Seal, StoredRun, UpdateOutcome,
} from "../../ports/run-store.ts";
import type { RedisClient } from "./redis-connection.ts";
import { DEFAULT_PREFIX, redisKeys, type RedisKeys } from "./redis-keys.ts";
import { indexHistory, pageRuns, pruneRuns, scored } from "./redis-history.ts";
import { defineScripts, runScript } from "./scripts.ts";
import { setNewest } from "../../core/bounded-map.ts";

const GENESIS: ChainHead = { seq: 0, hash: "0".repeat(64) };
const LINE_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };
// Line score = rank * RANK_SPAN + queuedAt: exact in a double up to rank 3 (4e13 < 2^53), and
// ZRANGE breaks equal scores by id, the same total order as the local store.
const RANK_SPAN = 1e13;
const DEFINITION_CACHE = 128;


export interface RedisRunStoreOptions {
  /** The deployment's SOP_REDIS_PREFIX, default `sop`; its keys are under `keyPrefix(prefix)`, e.g. `{sop}`. */
  prefix?: string;
}

/**
 * The Redis `RunStore`: one hash per run, indexes per SOP, and every check-and-change as one Lua
 * script (see `./lua`), so admission, a transition with its slot and seal, and claims hold across
 * processes. Definitions are stored once per content hash, so a run costs its state and a few
 * index entries. The connection belongs to the caller.
 */
export class RedisRunStore implements RunStore {
  readonly prefix: string;
  readonly keys: RedisKeys;
  /** Definition JSON by sha256: immutable, so safe to keep; bounded, oldest out first. */
  private readonly definitions = new Map<string, string>();
  private closed = false;
  private history: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    options: RedisRunStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = redisKeys(this.prefix);
    defineScripts(redis);
  }

  async admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission> {
    this.assertOpen();
    const { run } = stored;
    if (run.id === "") throw new RangeError("cannot admit a run with an empty id");
    if (run.status !== "queued") throw new RangeError(`cannot admit run ${run.id}: a new run is queued, not ${run.status}`);
    const definition = JSON.stringify(stored.definition);
    const sha = sha256(definition);
    const k = this.keys;
    const state = JSON.stringify(run);
    const token = writeToken();
    const attempt = async (send: boolean) => (await runScript(
      this.redis,
      "admit",
      [k.run(run.id), k.definition(sha), k.last(run.sop), k.status(run.sop, "queued"), k.line(run.sop), k.sops, ...this.historyKeys(run.sop)],
      [
        run.id, run.sop, state, run.revision, stored.dir, sha, send ? definition : "", stored.definition.maxConcurrent,
        opts.now, Math.max(0, opts.cooldownSecs * 1000), opts.force ? "1" : "0", run.queuedAt, lineScore(run), token,
        ...RUN_STATUSES,
      ],
    )) as number[];
    // A definition this process saw stored is not sent again (every run of a SOP pins the same
    // one). The script checks it is still there in the same step as the admission; when it is
    // gone (a flush), the admission changes nothing and is made again with it.
    let result = await attempt(!this.definitions.has(sha));
    if (result[0] === -2) {
      this.definitions.delete(sha);
      result = await attempt(true);
    }
    if (result[0] === -1) throw new Error(`cannot admit run ${run.id}: a run with that id already exists`);
    if (result[0] === 0) return { accepted: false, reason: "cooldown", retryAfterSecs: Math.ceil((result[1] ?? 0) / 1000) };
    this.remember(sha, definition);
    return { accepted: true };
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    const [run, sha, dir, seal] = await this.redis.hmget(this.keys.run(runId), "run", "def", "dir", "seal");
    if (run == null || sha == null) return undefined;
    const stored: StoredRun = {
      run: JSON.parse(run) as RunState,
      definition: JSON.parse(await this.definition(sha, runId)) as SopDefinition,
      dir: dir ?? "",
    };
    if (seal != null) stored.seal = JSON.parse(seal) as Seal;
    return stored;
  }

  async update(runId: string, expectedRevision: number, next: RunState, ending?: RunEnding, claim?: ClaimWrite): Promise<UpdateOutcome> {
    this.assertOpen();
    if (next.id !== runId) throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
    const k = this.keys;
    const statusKeys = RUN_STATUSES.map((status) => k.status(next.sop, status));
    const seal = ending?.seal;
    const result = (await runScript(
      this.redis,
      "update",
      [k.run(runId), k.line(next.sop), k.chains, k.sealed(next.sop), k.blocked(next.sop), k.deadlines, k.claim(runId), ...statusKeys, ...this.historyKeys(next.sop)],
      [
        runId, expectedRevision, JSON.stringify(next), next.revision, next.status, next.sop, next.queuedAt,
        seal === undefined ? "" : JSON.stringify(seal), ending === undefined ? "" : JSON.stringify(ending.record),
        seal?.seq ?? 0, seal?.prevHash ?? "", seal?.hash ?? "", nextDeadline(next) ?? "",
        ...claimArgs(claim),
        next.completedAt ?? "",
        writeToken(),
        ...RUN_STATUSES,
      ],
    )) as (number | string)[];
    switch (result[0]) {
      case 1: return { ok: true, startable: result.slice(1).map(String) };
      case -1: throw new Error(`cannot update run ${runId}: the new state names run ${next.id} of SOP ${next.sop}`);
      case -2: return { ok: false, why: "no_slot" };
      case -4: return { ok: false, why: "claimed" };
      case -3: return { ok: false, why: "chain", head: typeof result[1] === "string" && result[1] !== "" ? (JSON.parse(result[1]) as ChainHead) : { ...GENESIS } };
      default: return { ok: false, why: "revision" };
    }
  }

  async list(filter: RunFilter = {}): Promise<RunState[]> {
    const sops = filter.sop === undefined ? await this.redis.smembers(this.keys.sops) : [filter.sop];
    const statuses = filter.statuses ?? RUN_STATUSES;
    const ranges = this.redis.pipeline();
    for (const sop of sops) for (const status of statuses) ranges.zrange(this.keys.status(sop, status), 0, "-1", "WITHSCORES");
    const entries: { id: string; queuedAt: number }[] = [];
    for (const [error, reply] of (await ranges.exec()) ?? []) {
      if (error) throw error;
      for (const [id, score] of scored(reply as string[])) entries.push({ id, queuedAt: score });
    }
    entries.sort((a, b) => a.queuedAt - b.queuedAt || compareIds(a.id, b.id));
    if (entries.length === 0) return [];
    const reads = this.redis.pipeline();
    for (const { id } of entries) reads.hget(this.keys.run(id), "run");
    const found: RunState[] = [];
    for (const [error, reply] of (await reads.exec()) ?? []) {
      if (error) throw error;
      if (typeof reply !== "string") continue;
      const run = JSON.parse(reply) as RunState;
      // The status may have moved between the two round trips; the filter is on the state read.
      if (filter.statuses === undefined || filter.statuses.includes(run.status)) found.push(run);
    }
    return found;
  }

  async page(query: RunPageQuery): Promise<RunPage> {
    await this.historyReady();
    return pageRuns(this.redis, this.keys, query);
  }

  async endedSince(since: number): Promise<string[]> {
    await this.historyReady();
    return this.redis.zrangebyscore(this.keys.ended, since, "+inf");
  }

  async markAudited(sop: string, seq: number): Promise<void> {
    this.assertOpen();
    await runScript(this.redis, "markAudited", [this.keys.audited], [sop, seq]);
  }

  async prune(query: PruneQuery): Promise<{ runId: string; sop: string }[]> {
    this.assertOpen();
    await this.historyReady();
    return pruneRuns(this.redis, this.keys, query);
  }

  async count(sop: string, statuses: readonly RunStatus[]): Promise<number> {
    // One script, not a ZCARD per status: a caller awaiting each of hundreds of runs asks this.
    // (Not a pipeline: an ioredis pipeline object copies every script defined on the connection,
    // BullMQ's too, which cost more than the counts themselves.)
    if (statuses.length === 0) return 0;
    return Number(await runScript(this.redis, "count", statuses.map((status) => this.keys.status(sop, status)), []));
  }

  async startable(sop: string): Promise<string[]> {
    const k = this.keys;
    const [first] = await this.redis.zrange(k.line(sop), "0", "0");
    if (first === undefined) return [];
    const reads = this.redis.pipeline().hget(k.run(first), "max");
    for (const status of ACTIVE_STATUSES) reads.zcard(k.status(sop, status));
    const replies = ((await reads.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return Number(reply ?? 1);
    });
    const [max = 1, ...active] = replies;
    const free = max - active.reduce((a, b) => a + b, 0);
    return free > 0 ? this.redis.zrange(k.line(sop), "0", String(free - 1)) : [];
  }

  async overdue(now: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.deadlines, "-inf", now);
  }

  async cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number> {
    // Without a cooldown there is nothing to ask Redis (every start asks this).
    if (cooldownSecs <= 0) return 0;
    const last = await this.redis.get(this.keys.last(sop));
    if (last === null) return 0;
    return Math.ceil(Math.max(0, Number(last) + cooldownSecs * 1000 - now) / 1000);
  }

  async claim(runId: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    this.assertOpen();
    const result = await runScript(this.redis, "claim", [this.keys.claim(runId)], [owner, now, now + ttlMs, claimKeyLifetime(ttlMs)]);
    return result === 1;
  }

  async unclaim(runId: string, owner: string): Promise<void> {
    await runScript(this.redis, "unclaim", [this.keys.claim(runId)], [owner]);
  }

  async claims(runIds: readonly string[]): Promise<Map<string, Claim>> {
    const found = new Map<string, Claim>();
    if (runIds.length === 0) return found;
    const values = await this.redis.mget(runIds.map((id) => this.keys.claim(id)));
    runIds.forEach((runId, i) => {
      const value = values[i];
      const sep = value?.indexOf("|") ?? -1;
      if (value == null || sep < 0) return;
      found.set(runId, { until: Number(value.slice(0, sep)), owner: value.slice(sep + 1) });
    });
    return found;
  }

  async chainHead(sop: string): Promise<ChainHead> {
    const head = await this.redis.hget(this.keys.chains, sop);
    return head === null ? { ...GENESIS } : (JSON.parse(head) as ChainHead);
  }

  async chainHeads(): Promise<Map<string, ChainHead>> {
    const all = await this.redis.hgetall(this.keys.chains);
    return new Map(Object.entries(all).map(([sop, head]) => [sop, JSON.parse(head) as ChainHead]));
  }

  async finalRecord(runId: string): Promise<AuditRecord | undefined> {
    const record = await this.redis.hget(this.keys.run(runId), "record");
    return record === null ? undefined : (JSON.parse(record) as AuditRecord);
  }

  async sealedRuns(sop: string, fromSeq: number, toSeq: number): Promise<{ seq: number; runId: string }[]> {
    const flat = await this.redis.zrangebyscore(this.keys.sealed(sop), fromSeq, toSeq, "WITHSCORES");
    const found: { seq: number; runId: string }[] = [];
    for (const [runId, seq] of scored(flat)) found.push({ runId, seq });
    return found;
  }

  /** Later changes are refused. The connection stays open: it belongs to the caller. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The history indexes admit.lua and update.lua keep in the same step: all runs, the SOP's, ended, and each status across SOPs. */
  private historyKeys(sop: string): string[] {
    const k = this.keys;
    return [k.runs, k.sopRuns(sop), k.ended, ...RUN_STATUSES.map((s) => k.anyStatus(s))];
  }

  private historyReady(): Promise<void> {
    this.history ??= indexHistory(this.redis, this.keys).catch((error: unknown) => {
      this.history = undefined;
      throw error;
    });
    return this.history;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`the Redis run store with prefix ${this.prefix} is closed`);
  }

  private async definition(sha: string, runId: string): Promise<string> {
    const cached = this.definitions.get(sha);
    if (cached !== undefined) return cached;
    const json = await this.redis.get(this.keys.definition(sha));
    if (json === null) throw new Error(`run ${runId} pins definition ${sha}, which is missing from Redis (${this.keys.definition(sha)})`);
    this.remember(sha, json);
    return json;
  }

  private remember(sha: string, json: string): void {
    if (!this.definitions.has(sha)) setNewest(this.definitions, sha, json, DEFINITION_CACHE);
  }
}

/** Redis drops a claim's key well after it expired by the claimants' clocks, which may differ a little. */
const claimKeyLifetime = (ttlMs: number): number => Math.max(1, ttlMs) * 4;

/** ARGV[14..17] of update.lua: a driver's claim taken, renewed or given up with the change; "" for none. */
function claimArgs(claim: ClaimWrite | undefined): (string | number)[] {
  if (claim === undefined) return ["", 0, "", 0];
  if (claim.owner === "") throw new RangeError("a claim needs an owner");
  return [claim.owner, claim.now, claim.release ? "" : claim.now + claim.ttlMs, claimKeyLifetime(claim.ttlMs)];
}

function lineScore(run: RunState): number {
  if (!Number.isSafeInteger(run.queuedAt) || run.queuedAt < 0 || run.queuedAt >= RANK_SPAN) {
    throw new RangeError(`run ${run.id} has queuedAt ${run.queuedAt}; the Redis store needs whole epoch milliseconds below ${RANK_SPAN}`);
  }
  return LINE_RANK[run.priority] * RANK_SPAN + run.queuedAt;
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * Tokens of this process's writes: a random tag drawn once, then a counter. A write sent again
 * after its reply was lost carries the same one (the client resends the same command), which is
 * how admit.lua and update.lua know it for a write that landed.
 */
const WRITE_TAG = randomBytes(8).toString("hex");
let writes = 0;
const writeToken = (): string => `${WRITE_TAG}${(writes++).toString(36)}`;

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
