/**
 * The right to drive one run (run its commands), held in the store for a short time and renewed
 * while the process lives. A run whose driver died is found by its lapsed claim and taken over;
 * a driver that finds its claim gone (it stalled longer than the claim lasts and another process
 * took over) stops its command at once, so a step never runs twice at the same time. A driver
 * that cannot renew (the store does not answer: an outage, a failover) stops its command before
 * the claim lapses, since whoever takes the run over then cannot know it still runs here.
 */
import type { RunStore, UpdateOutcome } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";

/**
 * How long before its claim lapses a driver that could not renew stops its command: the time a
 * command gets to end after SIGTERM before SIGKILL (the shell executor's default kill grace), so
 * it is gone before anyone may take the run over. At most a quarter of the claim's length, so
 * that one failed renewal (the next comes a third of the length later) never stops a command.
 */
const FENCE_MS = 5_000;

export interface ClaimDeps {
  store: RunStore;
  /** This process, as claims name it. */
  owner: string;
  ttlMs: number;
  now: () => number;
  log: Logger;
}

export class RunClaim {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  /** Given up by a change that carried it (`ClaimWrite`): nothing left to release. */
  private gone = false;
  /** Changes carrying the claim on their way: the timer's renewals wait (see `writing`). */
  private writes = 0;
  private readonly losers = new Set<() => void>();
  /** When the store last granted the claim (this process's clock): it lasts ttlMs from then. */
  private grantedAt: number;
  /** Due FENCE_MS before the claim lapses, and put off by every renewal that lands. */
  private fence: NodeJS.Timeout | undefined;

  private constructor(
    private readonly deps: ClaimDeps,
    readonly runId: string,
    grantedAt: number,
  ) {
    this.grantedAt = grantedAt;
  }

  /** The claim, or undefined while another process holds an unexpired one. */
  static async take(deps: ClaimDeps, runId: string): Promise<RunClaim | undefined> {
    const at = deps.now();
    if (!(await deps.store.claim(runId, deps.owner, deps.ttlMs, at))) return undefined;
    return RunClaim.taken(deps, runId, at);
  }

  /** The claim a change just took with it (`ClaimWrite`, sent at `grantedAt`), renewed from now on. */
  static taken(deps: ClaimDeps, runId: string, grantedAt = deps.now()): RunClaim {
    const claim = new RunClaim(deps, runId, grantedAt);
    claim.timer = setInterval(() => {
      if (claim.writes === 0) void claim.renew();
    }, Math.max(1, Math.floor(deps.ttlMs / 3)));
    // A driver waiting for a command must not keep a closing process alive on its own.
    claim.timer.unref();
    claim.armFence();
    return claim;
  }

  /**
   * Sends a change that carries the claim. The timer does not renew meanwhile: the change renews
   * the claim or gives it up itself, and a renewal sent after a change that gave it up would take
   * the claim again (a run nobody drives, looking driven until the claim lapses and a sweep or a
   * retake finds it). A renewal already sent reaches the store first (one connection, in order).
   * `sentAt` is the time the change carries for the claim.
   */
  async writing(send: () => Promise<UpdateOutcome>, sentAt: number): Promise<UpdateOutcome> {
    this.writes++;
    try {
      const outcome = await send();
      // Landed with the claim: the store renewed it from `sentAt`, as a renewal would have.
      if (outcome.ok) {
        this.grantedAt = Math.max(this.grantedAt, sentAt);
        this.armFence();
      }
      return outcome;
    } finally {
      this.writes--;
    }
  }

  /** A change gave the claim up (nothing left to drive): release() has nothing to do. */
  givenUp(): void {
    this.gone = true;
    this.stopTimers();
  }

  /** False once another process took the run over. */
  get held(): boolean {
    return !this.lost;
  }

  /** Called once, when the claim is found lost. */
  onLost(fn: () => void): () => void {
    this.losers.add(fn);
    return () => this.losers.delete(fn);
  }

  /** Renew now; false (and `onLost` told) when another process holds the run. */
  async renew(): Promise<boolean> {
    if (this.lost) return false;
    // Given up with the run's last change: renewing would take it again.
    if (this.gone) return true;
    let ok: boolean;
    const at = this.deps.now();
    try {
      ok = await this.deps.store.claim(this.runId, this.deps.owner, this.deps.ttlMs, at);
    } catch (err) {
      // An outage: the next renewal (or the first transition after it) finds out whether another
      // process took the run; unless one lands first, the fence stops the command before the claim lapses.
      this.deps.log.debug({ runId: this.runId, err }, "claim renewal failed; trying again");
      return true;
    }
    if (!ok) {
      this.refused();
      return false;
    }
    this.grantedAt = Math.max(this.grantedAt, at);
    this.armFence();
    return true;
  }

  async release(): Promise<void> {
    this.stopTimers();
    if (this.lost || this.gone) return;
    this.gone = true;
    await this.deps.store.unclaim(this.runId, this.deps.owner);
  }

  /** A change carrying the claim, or a renewal, was refused: another process holds the run. Told once. */
  refused(): void {
    this.lose(`run ${this.runId} was taken over by another process (this one stalled longer than its claim lasts); its command here is stopped`);
  }

  /**
   * Stops the command FENCE_MS before the claim lapses, unless a renewal lands first: renewals
   * that fail, or hang (a client that queues commands through a reconnect), leave it due.
   */
  private armFence(): void {
    clearTimeout(this.fence);
    if (this.lost || this.gone) return;
    const margin = Math.min(FENCE_MS, Math.floor(this.deps.ttlMs / 4));
    const lapsesAt = this.grantedAt + this.deps.ttlMs;
    const fire = () => {
      this.lose(`run ${this.runId}: the store has not answered this process's claim renewals, and the claim lapses at ` +
        `${new Date(lapsesAt).toISOString()}; its command here is stopped now, so that whoever takes the run over never runs the step while it still runs here`);
    };
    this.fence = setTimeout(fire, Math.max(0, lapsesAt - margin - this.deps.now()));
    this.fence.unref();
  }

  /** The claim is no longer this process's: stop renewing and stop its command. Told once. */
  private lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.stopTimers();
    this.deps.log.warn({ runId: this.runId }, why);
    for (const fn of this.losers) fn();
  }

  private stopTimers(): void {
    clearInterval(this.timer);
    clearTimeout(this.fence);
    this.fence = undefined;
  }
}
