/**
 * The right to drive one run (run its commands), held in the store for a short time and renewed
 * while the process lives. A run whose driver died is found by its lapsed claim and taken over;
 * a driver that finds its claim gone (it stalled longer than the claim lasts and another process
 * took over) stops its command at once, so a step never runs twice at the same time.
 */
import type { RunStore } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";

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

  private constructor(
    private readonly deps: ClaimDeps,
    readonly runId: string,
  ) {}

  /** The claim, or undefined while another process holds an unexpired one. */
  static async take(deps: ClaimDeps, runId: string): Promise<RunClaim | undefined> {
    if (!(await deps.store.claim(runId, deps.owner, deps.ttlMs, deps.now()))) return undefined;
    return RunClaim.taken(deps, runId);
  }

  /** The claim a change just took with it (`ClaimWrite`), renewed from now on. */
  static taken(deps: ClaimDeps, runId: string): RunClaim {
    const claim = new RunClaim(deps, runId);
    claim.timer = setInterval(() => {
      if (claim.writes === 0) void claim.renew();
    }, Math.max(1, Math.floor(deps.ttlMs / 3)));
    // A driver waiting for a command must not keep a closing process alive on its own.
    claim.timer.unref();
    return claim;
  }

  /**
   * Sends a change that carries the claim. The timer does not renew meanwhile: the change renews
   * the claim or gives it up itself, and a renewal sent after a change that gave it up would take
   * the claim again (a run nobody drives, looking driven until the claim lapses and a sweep or a
   * retake finds it). A renewal already sent reaches the store first (one connection, in order).
   */
  async writing<T>(send: () => Promise<T>): Promise<T> {
    this.writes++;
    try {
      return await send();
    } finally {
      this.writes--;
    }
  }

  /** A change gave the claim up (nothing left to drive): release() has nothing to do. */
  givenUp(): void {
    this.gone = true;
    clearInterval(this.timer);
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
    try {
      ok = await this.deps.store.claim(this.runId, this.deps.owner, this.deps.ttlMs, this.deps.now());
    } catch (err) {
      // An outage: the claim may lapse meanwhile; the next renewal (or the first transition
      // after the outage) finds out whether another process took the run.
      this.deps.log.debug({ runId: this.runId, err }, "claim renewal failed; trying again");
      return true;
    }
    if (!ok) this.refused();
    return ok;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    if (this.lost || this.gone) return;
    this.gone = true;
    await this.deps.store.unclaim(this.runId, this.deps.owner);
  }

  /** A change carrying the claim, or a renewal, was refused: another process holds the run. Told once. */
  refused(): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.deps.log.warn({ runId: this.runId }, `run ${this.runId} was taken over by another process (this one stalled longer than its claim lasts); its command here is stopped`);
    for (const fn of this.losers) fn();
  }
}
