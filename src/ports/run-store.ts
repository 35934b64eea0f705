/**
 * The truth about runs. Admission (cooldown), slots (max_concurrent), compare-and-set updates
 * and the audit chain head are single atomic operations, so they hold across processes.
 */
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
  /** True from a successful `tryStart` until `release`. */
  holdsSlot: boolean;
  /** Set once, when the ended run's audit record joins its SOP's hash chain. */
  seal?: Seal;
}

export type Admission =
  | { accepted: true }
  | { accepted: false; reason: "cooldown"; retryAfterSecs: number };

export interface ChainHead {
  seq: number;
  hash: string;
  /** The run whose record is at the head, and the hash it linked to, so an interrupted seal can finish. */
  runId?: string;
  prevHash?: string;
}

export interface RunFilter {
  sop?: string;
  statuses?: readonly RunStatus[];
}

export interface RunStore {
  /**
   * Refuse while the SOP's cooldown runs (unless forced), else record `now` as its last
   * acceptance and store the new queued run — one atomic step.
   */
  admit(stored: StoredRun, opts: { cooldownSecs: number; force: boolean; now: number }): Promise<Admission>;
  get(runId: string): Promise<StoredRun | undefined>;
  /** Replace the run state when its stored revision is still `expectedRevision`; false otherwise. */
  update(runId: string, expectedRevision: number, next: RunState): Promise<boolean>;
  list(filter?: RunFilter): Promise<RunState[]>;
  /**
   * Give the run one of its SOP's `maxConcurrent` slots when, with k slots free, fewer than k
   * queued runs of the SOP are ahead of it (higher priority first, then earlier): whoever
   * starts is first in line, and k may start at once. Runs holding a slot count whatever their
   * status until released. Idempotent for a run that already holds one.
   */
  tryStart(runId: string, maxConcurrent: number): Promise<boolean>;
  /** Free the run's slot; returns the queued runs that may start now (the first k of the line, k free slots). */
  release(runId: string, maxConcurrent: number): Promise<string[]>;
  /** Seconds left of the SOP's cooldown at `now` (0 when none). */
  cooldownRemaining(sop: string, cooldownSecs: number, now: number): Promise<number>;
  chainHead(sop: string): Promise<ChainHead>;
  /** Move the SOP's chain head from `expected` to `next` atomically; false when it moved meanwhile. */
  advanceChain(sop: string, expected: ChainHead, next: ChainHead): Promise<boolean>;
  setSeal(runId: string, seal: Seal): Promise<void>;
  chainHeads(): Promise<Map<string, ChainHead>>;
  close(): Promise<void>;
}
