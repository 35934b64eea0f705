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

/** "2026-02-25 13:00:00 UTC": a moment as people read it in chat and on the web; "" for none. */
export function utcText(at: string | number | null | undefined): string {
  return at === null || at === undefined ? "" : `${new Date(at).toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** "1 step", "3 steps". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
