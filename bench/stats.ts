/** Small statistics and timing helpers shared by the benchmarks. */
import { performance } from "node:perf_hooks";

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Nearest-rank percentile: the smallest sample at or above `p` percent of them. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError("percentile of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Milliseconds `fn` took. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs `fn` once unmeasured (JIT, file cache, lazy imports) unless the caller already did, then
 * `runs` times measured, with a GC before each run so one run's garbage is not collected on the
 * next one's clock.
 */
export async function medianMs(runs: number, fn: () => Promise<unknown>, opts: { warmUp?: boolean } = {}): Promise<{ median: number; samples: number[] }> {
  if (opts.warmUp ?? true) {
    collectGarbage();
    await fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    samples.push(await timeMs(fn));
  }
  return { median: median(samples), samples };
}

/** `npm run bench` passes --expose-gc; without it (e.g. a bare `tsx`) this does nothing. */
export function collectGarbage(): void {
  globalThis.gc?.();
}
