import { compareNewestFirst, type RunPlace } from "../../core/run/run-cursor.ts";

/**
 * Runs in history order, kept sorted as they arrive, so a page is a binary search and a short
 * walk instead of a sort of every run. New runs are nearly always the newest: they are appended.
 */
export class HistoryOrder {
  /** Oldest first. */
  private places: RunPlace[] = [];

  add(place: RunPlace): void {
    const at = this.firstNotOlder(place);
    if (this.places[at]?.id === place.id) return;
    this.places.splice(at, 0, { queuedAt: place.queuedAt, id: place.id });
  }

  /**
   * Adds many at once (a start): one sort instead of an insertion each. The objects are kept as
   * they are (no copy, to save memory at 100,000 runs): pass small ones that never change.
   */
  addAll(places: readonly RunPlace[]): void {
    const seen = new Set(this.places.map((p) => p.id));
    for (const p of places) if (!seen.has(p.id)) this.places.push(p);
    this.places.sort((a, b) => compareNewestFirst(b, a));
  }

  /** Drops these runs (one pass: pruning removes many at once). */
  remove(ids: ReadonlySet<string>): void {
    if (ids.size > 0) this.places = this.places.filter((p) => !ids.has(p.id));
  }

  /** Newest first, starting after `cursor` (a run older than it) or at the newest. */
  *newestFirst(cursor?: RunPlace): Generator<RunPlace> {
    for (let i = (cursor === undefined ? this.places.length : this.firstNotOlder(cursor)) - 1; i >= 0; i--) {
      const place = this.places[i];
      if (place !== undefined) yield place;
    }
  }

  /** Index of the first place (oldest first) that is `place` or newer. */
  private firstNotOlder(place: RunPlace): number {
    let lo = 0;
    let hi = this.places.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.places[mid];
      // compareNewestFirst(other, place) > 0: other is older than place.
      if (other !== undefined && compareNewestFirst(other, place) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
