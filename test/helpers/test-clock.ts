/**
 * A clock that moves only when told: `advance(ms)` fires, in order, every call scheduled to fall
 * due within the span (and those they schedule within it), letting each one's promises settle.
 */
import { setImmediate as tick } from "node:timers/promises";
import type { Clock } from "../../src/ports/clock.ts";

interface Due {
  at: number;
  seq: number;
  fn: () => void;
}

export class TestClock implements Clock {
  private time: number;
  private seq = 0;
  private pending: Due[] = [];

  constructor(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.time = start;
  }

  now = (): number => this.time;

  schedule(fn: () => void, ms: number): () => void {
    const due: Due = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(due);
    return () => {
      this.pending = this.pending.filter((d) => d !== due);
    };
  }

  /** How many scheduled calls have not fired yet. */
  get waiting(): number {
    return this.pending.length;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const next = this.pending.filter((d) => d.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.pending = this.pending.filter((d) => d !== next);
      this.time = next.at;
      next.fn();
      // What the call set going (a queue job, a store write) gets to run before time moves on.
      for (let i = 0; i < 10; i++) await tick();
    }
    this.time = end;
  }
}
