/** Numbers as people read them, the same in the web UI and in chat. */

/** A duration as people read it: `850 ms`, `2.1 s`, `3 min 5 s`, `1 h 4 min` (web UI, chat). */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A rate as a whole percentage: `92 %`, or `—` when there is nothing to count. */
export function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)} %`;
}
