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
  private readonly losers = new Set<() => void>();

  private constructor(
    private readonly deps: ClaimDeps,
    readonly runId: string,
  ) {}

  /** The claim, or undefined while another process holds an unexpired one. */
  static async take(deps: ClaimDeps, runId: string): Promise<RunClaim | undefined> {
    if (!(await deps.store.claim(runId, deps.owner, deps.ttlMs, deps.now()))) return undefined;
    const claim = new RunClaim(deps, runId);
    claim.timer = setInterval(() => void claim.renew(), Math.max(1, Math.floor(deps.ttlMs / 3)));
    // A driver waiting for a command must not keep a closing process alive on its own.
    claim.timer.unref();
    return claim;
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
    let ok: boolean;
    try {
      ok = await this.deps.store.claim(this.runId, this.deps.owner, this.deps.ttlMs, this.deps.now());
    } catch (err) {
      // An outage: the claim may lapse meanwhile; the next renewal (or the first transition
      // after the outage) finds out whether another process took the run.
      this.deps.log.debug({ runId: this.runId, err }, "claim renewal failed; trying again");
      return true;
    }
    if (!ok) this.lose();
    return ok;
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    if (!this.lost) await this.deps.store.unclaim(this.runId, this.deps.owner);
  }

  private lose(): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.deps.log.warn({ runId: this.runId }, `run ${this.runId} was taken over by another process (this one stalled longer than its claim lasts); its command here is stopped`);
    for (const fn of this.losers) fn();
  }
}
