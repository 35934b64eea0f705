/** `getStatus`: active and queued runs, the last run, cooldown left, and metrics from history. */
import { isActive, isTerminal, type RunState } from "../core/run/run-state.ts";

export interface SopMetrics {
  runs: number;
  success_rate: number | null;
  duration_p50_ms: number | null;
  duration_p95_ms: number | null;
  approval_wait_p50_ms: number | null;
  approval_wait_p95_ms: number | null;
}

export interface SopStatus {
  sop: string;
  active: RunState[];
  queued: RunState[];
  last?: RunState;
  cooldown_remaining_secs: number;
  metrics: SopMetrics;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

export function sopMetrics(runs: readonly RunState[]): SopMetrics {
  const ended = runs.filter((r) => isTerminal(r.status));
  const durations = ended.flatMap((r) => (r.startedAt !== undefined && r.completedAt !== undefined ? [r.completedAt - r.startedAt] : []))
    .sort((a, b) => a - b);
  const waits = runs.flatMap((r) => r.checkpoints)
    .flatMap((c) => (c.kind === "approval" && c.decidedAt !== undefined && c.status !== "bypassed" && c.status !== "notified" ? [c.decidedAt - c.requestedAt] : []))
    .sort((a, b) => a - b);
  const successes = ended.filter((r) => r.status === "success").length;
  return {
    runs: ended.length,
    success_rate: ended.length ? successes / ended.length : null,
    duration_p50_ms: percentile(durations, 50),
    duration_p95_ms: percentile(durations, 95),
    approval_wait_p50_ms: percentile(waits, 50),
    approval_wait_p95_ms: percentile(waits, 95),
  };
}

/**
 * The status of `sop` from its runs going on and its latest ended runs (the metrics' window), and
 * the cooldown the store says is left. `endedCount` is how many ended runs it has in all (the
 * `runs` metric), beyond the window.
 */
export function sopStatus(sop: string, runs: readonly RunState[], cooldownRemainingSecs: number, endedCount: number): SopStatus {
  const ended = runs.filter((r) => isTerminal(r.status)).sort((a, b) => (b.completedAt ?? 0) - (a.completedAt ?? 0));
  const status: SopStatus = {
    sop,
    active: runs.filter((r) => isActive(r.status)),
    queued: runs.filter((r) => r.status === "queued"),
    cooldown_remaining_secs: cooldownRemainingSecs,
    metrics: { ...sopMetrics(runs), runs: endedCount },
  };
  if (ended[0]) status.last = ended[0];
  return status;
}
