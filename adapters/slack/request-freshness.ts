/**
 * How long a signed request from Slack stays good. Bolt refuses a request dated more than five
 * minutes ago, and only that: a request dated later than now would stay fresh for as long as its
 * date says, so one dated more than five minutes ahead is refused the same way. A request that
 * passed must be remembered as long as Bolt would still take it again.
 */

/** Slack's tolerance, which Bolt applies to the past and we to the future. */
export const FRESH_SECS = 5 * 60;

/**
 * Slack's clock and ours may disagree, and so may the clocks of several `sop serve` processes:
 * a request is remembered this much longer than the window strictly needs.
 */
const CLOCK_MARGIN_MS = FRESH_SECS * 1000;

/**
 * Why a request must be refused before Bolt reads it: its X-Slack-Request-Timestamp is more than
 * five minutes ahead of `nowMs`. Undefined lets Bolt decide, including about a missing or
 * malformed header, which it refuses itself.
 */
export function tooFarAhead(timestampHeader: string | string[] | undefined, nowMs: number): string | undefined {
  if (typeof timestampHeader !== "string") return undefined;
  const timestamp = Number(timestampHeader);
  if (!Number.isFinite(timestamp)) return undefined;
  // The mirror of Bolt's rule for the past: whole seconds, five minutes exactly still passes.
  if (timestamp <= Math.floor(nowMs / 1000) + FRESH_SECS) return undefined;
  return `X-Slack-Request-Timestamp is more than ${FRESH_SECS / 60} minutes in the future; if Slack's requests are all refused, check this machine's clock`;
}

/**
 * How long to remember a request dated `timestampSecs` that passed at `nowMs`: until Bolt would
 * find it stale (five minutes after its date, to the second), and a margin for clocks.
 */
export function rememberForMs(timestampSecs: number, nowMs: number): number {
  const staleAtMs = (timestampSecs + FRESH_SECS + 1) * 1000;
  return Math.max(0, staleAtMs - nowMs) + CLOCK_MARGIN_MS;
}
