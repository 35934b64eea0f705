/**
 * Retention (SOP_RETENTION_DAYS): forgets the state of runs that ended longer ago than the
 * retention, in the store only. The audit files are never touched, and the store removes only
 * runs whose final audit file the audit sink marked written (`RunStore.markAudited`), so a
 * record that exists nowhere else is never lost. Any process may prune, several at once: the
 * store removes each run once.
 */
import type { Clock } from "../ports/clock.ts";
import type { RunStore } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";

const DAY_MS = 86_400_000;
/** Runs one store call removes; prune goes on while a call removes this many. */
const BATCH = 500;
/** How often a process prunes after the first time, at start. */
const RETENTION_INTERVAL_MS = 3_600_000;

export interface RetentionOptions {
  store: RunStore;
  /** Days an ended run's state is kept (> 0). */
  days: number;
  clock: Clock;
  log: Logger;
}

/** Removes what is past retention now; returns how many runs, by SOP. */
async function pruneHistory(store: RunStore, endedBefore: number): Promise<Map<string, number>> {
  const bySop = new Map<string, number>();
  for (;;) {
    const pruned = await store.prune({ endedBefore, limit: BATCH });
    for (const { sop } of pruned) bySop.set(sop, (bySop.get(sop) ?? 0) + 1);
    if (pruned.length < BATCH) return bySop;
  }
}

/** Prunes at once and then hourly until stopped. */
export class Retention {
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: RetentionOptions) {}

  start(): void {
    this.tick();
  }

  /** Prunes now; one line in the log says what went, by SOP. */
  async pruneNow(): Promise<number> {
    const { store, days, clock, log } = this.o;
    const endedBefore = clock.now() - days * DAY_MS;
    const bySop = await pruneHistory(store, endedBefore);
    const total = [...bySop.values()].reduce((a, b) => a + b, 0);
    if (total > 0) {
      const detail = [...bySop].sort(([a], [b]) => a.localeCompare(b)).map(([sop, n]) => `${sop} ${n}`).join(", ");
      log.info({ pruned: total, endedBefore: new Date(endedBefore).toISOString() }, `retention: forgot ${total} run(s) that ended over ${days} day(s) ago (${detail}); their audit files stay`);
    }
    return total;
  }

  /** Stops the timer and waits for a prune under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    this.running = this.pruneNow().then(
      () => undefined,
      (err: unknown) => this.o.log.error({ err }, `retention: cannot prune ended runs: ${(err as Error).message}; trying again in an hour`),
    );
    this.cancel = this.o.clock.schedule(() => this.tick(), RETENTION_INTERVAL_MS);
  }
}
