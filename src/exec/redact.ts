/** What a secret becomes in output. */
export const REDACTED = "***";

/**
 * Replaces every occurrence of every non-empty secret with `***`. Where occurrences overlap
 * (one secret inside or across another, or a secret repeating into itself) the whole covered
 * stretch becomes a single `***`, so no fragment of any secret survives.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  const redactor = new StreamRedactor(secrets);
  return redactor.push(text) + redactor.flush();
}

/**
 * Redacts text that arrives in pieces: a secret split across two pieces is still caught.
 * Holds back the last `maxSecretLength - 1` characters until it knows whether they belong to
 * a secret, so memory stays bounded whatever the stream's length. The concatenated output
 * equals `redactText` of the concatenated input.
 */
export class StreamRedactor {
  readonly #secrets: readonly string[];
  readonly #holdBack: number;
  /** Raw text: already emitted look-behind, then characters not yet decided. */
  #raw = "";
  /** How many leading characters of `#raw` were already emitted. */
  #decided = 0;

  constructor(secrets: readonly string[]) {
    // Longest first, so the first one sets how much text must be held back.
    this.#secrets = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
    this.#holdBack = Math.max(0, (this.#secrets[0]?.length ?? 0) - 1);
  }

  /** Adds text; returns the part that is now final. */
  push(text: string): string {
    if (this.#secrets.length === 0) return text;
    this.#raw += text;
    return this.#emit(this.#raw.length - this.#holdBack);
  }

  /** Ends the stream; returns whatever was held back. */
  flush(): string {
    if (this.#secrets.length === 0) return "";
    const out = this.#emit(this.#raw.length);
    this.#raw = "";
    this.#decided = 0;
    return out;
  }

  /** Emits characters of `#raw` from `#decided` up to `limit`, then trims the look-behind. */
  #emit(limit: number): string {
    if (limit <= this.#decided) return "";
    let out = "";
    let pos = this.#decided;
    for (const [start, end] of maskedRuns(this.#raw, this.#secrets)) {
      if (end <= pos) continue;
      if (start >= limit) break;
      // A run that began before `pos` was already emitted as `***`; only skip its rest.
      if (start >= pos) out += this.#raw.slice(pos, start) + REDACTED;
      pos = Math.min(end, limit);
      if (end > limit) break;
    }
    if (pos < limit) out += this.#raw.slice(pos, limit);
    // An occurrence touching an undecided character starts at most holdBack characters before
    // the limit, so that much look-behind lets the next push find it again.
    const keepFrom = Math.max(0, limit - this.#holdBack);
    this.#raw = this.#raw.slice(keepFrom);
    this.#decided = limit - keepFrom;
    return out;
  }
}

/** Covered stretches `[start, end)` in order; overlapping occurrences merge, adjacent ones do not. */
function maskedRuns(text: string, secrets: readonly string[]): Array<[number, number]> {
  const hits: Array<[number, number]> = [];
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      hits.push([at, at + secret.length]);
    }
  }
  hits.sort((a, b) => a[0] - b[0]);
  const runs: Array<[number, number]> = [];
  for (const [start, end] of hits) {
    const last = runs.at(-1);
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else runs.push([start, end]);
  }
  return runs;
}
