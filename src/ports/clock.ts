/**
 * Time as the bot reads it and waits for it. Everything that waits for time to pass (delayed
 * jobs of the in-process queue, approval and step timeouts, notification and audit retries)
 * asks a Clock, so a test can skip an hour instead of sleeping through it.
 */
export interface Clock {
  now(): number;
  /**
   * Calls `fn` once, `ms` from now; the function returned cancels it. A scheduled call never
   * keeps the process alive: what waits is in the store, and a restart re-arms it.
   */
  schedule(fn: () => void, ms: number): () => void;
}

// setTimeout fires at once for longer delays (with a warning), so long waits go in hops.
const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    let timer: NodeJS.Timeout;
    const wait = (left: number): void => {
      const hop = Math.min(Math.max(0, left), MAX_TIMER_MS);
      timer = setTimeout(() => (left > hop ? wait(left - hop) : fn()), hop);
      timer.unref();
    };
    wait(ms);
    return () => clearTimeout(timer);
  },
};
