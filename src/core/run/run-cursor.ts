/**
 * The place of a run in history order (newest first: later `queuedAt` first, then larger id), and
 * the opaque cursor that names it. A run's place never changes, so a cursor stays valid while new
 * runs arrive (they sort before it) and runs end or are pruned (they only leave).
 */

export interface RunPlace {
  queuedAt: number;
  id: string;
}

/** A cursor that was not made by `encodeCursor` (edited, cut short, from another tool). */
export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}

/** Negative when `a` comes first in history order (it is newer). */
export function compareNewestFirst(a: RunPlace, b: RunPlace): number {
  if (a.queuedAt !== b.queuedAt) return b.queuedAt - a.queuedAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function encodeCursor(place: RunPlace): string {
  return btoa(`${place.queuedAt}:${place.id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): RunPlace {
  let text = "";
  try {
    if (/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    // Not base64: refused below like any other cursor this server did not give.
  }
  const match = /^(\d{1,15}):([\x21-\x7e]{1,200})$/.exec(text);
  if (match === null) throw new InvalidCursorError(`cursor ${JSON.stringify(cursor.slice(0, 60))} is not one this server gave; start again without a cursor`);
  return { queuedAt: Number(match[1]), id: match[2] ?? "" };
}
