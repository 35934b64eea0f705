/**
 * The truth about runs. Every check-and-change is one atomic step, so it holds across processes:
 * admission (cooldown), a transition by compare-and-set together with what it implies (taking one
 * of the SOP's `max_concurrent` slots when a run starts; sealing the record into the SOP's hash
 * chain and freeing the slot when it ends), and the claim of whoever drives a run.
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { SopDefinition } from "../core/sop/types.ts";
import type { RunState, RunStatus } from "../core/run/run-state.ts";

export interface Seal {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface StoredRun {
  run: RunState;
  /** The definition the run pinned when it was accepted (DESIGN invariant 4). */
  definition: SopDefinition;
  /** Absolute SOP folder, for the workdir of commands. */
  dir: string;
  /** Set once, by the transition that ended the run: its record's place in its SOP's hash chain. */
  seal?: Seal;
}

export type Admission =
  | { accepted: true }
  | { accepted: false; reason: "cooldown"; retryAfterSecs: number };

export interface ChainHead {
  seq: number;
  hash: string;
  /** The run whose record is at the head. */
  runId?: string;
}

export interface RunFilter {
  sop?: string;
  statuses?: readonly RunStatus[];
}

/** One page of history: newest first (see `core/run/run-cursor.ts`). */
export interface RunPageQuery extends RunFilter {
  /** At most this many runs (at least 1). */
  limit: number;
  /** The `next` of the page before; absent for the first page. A cursor the store did not make throws `InvalidCursorError`. */
  cursor?: string;
}

export interface RunPage {
  runs: RunState[];
  /** The cursor of the page after this one; absent when this page is the last. */
  next?: string;
}

export interface PruneQuery {
  /** Only runs that ended (by `completedAt`) before this time (epoch ms). */
  endedBefore: number;
  /** At most this many runs in one call; call again while it prunes that many. */
  limit: number;
}

/** What the transition that ends a run writes in the same atomic step. */
export interface RunEnding {
  /** `seq` is one past the head the caller read and `prevHash` that head's hash: the chain moves only from there. */
  seal: Seal;
  /** The final audit record with that seal: what every audit file of the run holds, byte for byte the hashed content. */
  record: AuditRecord;
}

export type UpdateOutcome =
  /** `startable`: queued runs of the SOP that may start now that a slot is free (the run ended). */
  | { ok: true; startable: string[] }
  /**
   * `revision`: another writer changed the run first (or there is no such run); `no_slot`: a queued
   * run may not start yet (its SOP's slots are taken, or others are ahead in line).
   */
  | { ok: false; why: "revision" | "no_slot" }
  /** The SOP's chain head moved since the caller read it; `head` is where it is now, to seal again from. */
  | { ok: false; why: "chain"; head: ChainHead }
  /** With a `ClaimWrite`: another owner holds an unexpired claim on the run; nothing changed. */
  | { ok: false; why: "claimed" };

/**
 * The driver's claim, checked and moved by the same atomic step as a change (`update`): the
 * change lands only when nobody else holds an unexpired claim, and then the claim is `owner`'s
 * until `now + ttlMs` (taken or renewed), or given up with the change when `release` (nothing is
 * left for this driver to run). It saves a driver the separate claim and unclaim round trips.
 */
export interface ClaimWrite {
  owner: string;
  ttlMs: number;
  /** Epoch ms of the claimant's clock, as for `claim`. */
  now: number;
  release: boolean;
}

/** Who drives a run (runs its commands), until when (epoch ms of the claimant's clock). */
export interface Claim {
  owner: string;
  until: number;
}

export interface RunStore {
  /**
   * Refuse while the SOP's cooldown runs (unless forced), else record `now` as its last
   * acceptance and store the new queued run — one atomic step.
   */
  admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission>;
  get(runId: string): Promise<StoredRun | undefined>;
  /**
   * Replace the run state when its stored revision is still `expectedRevision`, atomically with
   * what the change implies:
   * - queued → running (or waiting): only when one of the SOP's `max_concurrent` slots (of the
   *   run's pinned definition) is free and, with k free, fewer than k queued runs are ahead of it
   *   in line (higher priority first, then earlier, then by id); a slot is held by every run that
   *   runs or waits for a person;
   * - → ended: `ending` is required; the seal joins the chain (only from the head it names), the
   *   record is kept, and the slot frees: the outcome names the queued runs that may start now;
   * - with `claim`: refused (`claimed`) while another owner holds an unexpired claim on the run,
   *   else the claim is taken, renewed or given up with the change (see `ClaimWrite`). Every
   *   other refusal leaves the claim as it was.
   */
  update(runId: string, expectedRevision: number, next: RunState, ending?: RunEnding, claim?: ClaimWrite): Promise<UpdateOutcome>;
  /**
   * Every run that matches, oldest first. Meant for the runs going on (queued, running, waiting),
   * which are few; history (ended runs) is read a page at a time with `page`.
   */
  list(filter?: RunFilter): Promise<RunState[]>;
  /**
   * History newest first, a page at a time: each run that matches when its place is passed
   * appears once, however many runs arrive meanwhile (they sort before the cursor).
   */
  page(query: RunPageQuery): Promise<RunPage>;
  /** Ids of the runs that ended at or after `since` (epoch ms, by `completedAt`). */
  endedSince(since: number): Promise<string[]>;
  /**
   * Record that every sealed record of the SOP up to `seq` has its final audit file (never moves
   * back): what `prune` may remove up to.
   */
  markAudited(sop: string, seq: number): Promise<void>;
  /**
   * Forget ended runs (state, record, indexes) that ended before `endedBefore` and whose seal is
   * at or below their SOP's `markAudited` seq; never a run going on, never the chain heads or the
   * cooldowns. Idempotent, also when several processes prune at once. Returns what it removed.
   */
  prune(query: PruneQuery): Promise<{ runId: string; sop: string }[]>;
  /** How many runs of the SOP have one of these statuses (without reading them). */
  count(sop: string, statuses: readonly RunStatus[]): Promise<number>;
  /** The first k queued runs of the SOP in line order, k being the free slots. */
  startable(sop: string): Promise<string[]>;
  /** Runs not ended whose earliest deadline (a pending checkpoint's, or the run's timeout) is at or before `now`. */
  overdue(now: number): Promise<string[]>;
  /** Seconds left of the SOP's cooldown at `now` (0 when none). */
  cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number>;
  /**
   * Take the right to drive the run until `now + ttlMs`, or renew it: true when nobody held it,
   * the holder's claim expired, or `owner` holds it already.
   */
  claim(runId: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Give the claim up (only when `owner` holds it). */
  unclaim(runId: string, owner: string): Promise<void>;
  /** The claims on these runs, expired ones included; runs nobody claimed are absent. */
  claims(runIds: readonly string[]): Promise<Map<string, Claim>>;
  chainHead(sop: string): Promise<ChainHead>;
  chainHeads(): Promise<Map<string, ChainHead>>;
  /** The sealed record of an ended run; undefined while it goes on (or when unknown). */
  finalRecord(runId: string): Promise<AuditRecord | undefined>;
  /** The runs sealed as `fromSeq`…`toSeq` of the SOP's chain, in seq order (missing ones left out). */
  sealedRuns(sop: string, fromSeq: number, toSeq: number): Promise<{ seq: number; runId: string }[]>;
  close(): Promise<void>;
}
