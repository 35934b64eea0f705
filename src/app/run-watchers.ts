/**
 * What callers awaiting runs (`execute()`, `follow()`, a decision with `wait`) hear of the bus:
 * one subscription for all of them, each event handed only to the callers of its run, and to
 * the callers of queued runs of its SOP when it may bring those to rest. With hundreds of runs
 * awaited at once, a subscription per caller made every event visit every caller.
 */
import type { RunEvent } from "../core/run/effects.ts";

/** Per SOP, how many events so far may have left a queued run behind people, or let it go. */
export interface SopMarks {
  /** Runs of the SOP that started waiting for a person. */
  people: number;
  /** Runs of the SOP that ended. */
  finished: number;
}

const NONE: SopMarks = { people: 0, finished: 0 };

/** One caller's interest in one run. */
export class RunWatch {
  /** Events of the run heard since the watch began (but `run_queued`). */
  own = 0;
  /** The last of them. */
  last: RunEvent | undefined;
  /** What a change of the SOP's marks means to this caller (set while its run is queued). */
  others: ((marks: SopMarks) => boolean) | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly runId: string,
    private readonly watchers: RunWatchers,
    /** The marks as the watch began: of its SOP when known then, else of every SOP. */
    private readonly start: { sop: string; marks: SopMarks } | { every: ReadonlyMap<string, SopMarks> },
  ) {}

  /**
   * The marks of `sop` as the watch began. Of another SOP than the one it began with, none are
   * known: NONE makes any mark since look new, which costs the caller a read, never a missed change.
   */
  startMarks(sop: string): SopMarks {
    if ("sop" in this.start) return this.start.sop === sop ? this.start.marks : NONE;
    return this.start.every.get(sop) ?? NONE;
  }

  /** Resolves at the next event that concerns this caller, or after `ms`. */
  async next(ms: number, sop?: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    if (sop !== undefined) this.watchers.watchSop(sop, this);
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    } finally {
      clearTimeout(timer);
      this.wake = undefined;
      if (sop !== undefined) this.watchers.unwatchSop(sop, this);
    }
  }

  /** @internal From the dispatcher: an event of this run. */
  heard(event: RunEvent): void {
    // Its admission tells a caller nothing: the run was queued, and is until another event.
    if (event.type === "run_queued") return;
    this.own++;
    this.last = event;
    this.wake?.();
  }

  /** @internal From the dispatcher: the marks of this run's SOP moved. */
  sopMoved(marks: SopMarks): void {
    if (this.others?.(marks) === true) this.wake?.();
  }

  stop(): void {
    this.watchers.unwatch(this);
  }
}

export class RunWatchers {
  private readonly byRun = new Map<string, Set<RunWatch>>();
  private readonly bySop = new Map<string, Set<RunWatch>>();
  private readonly marks = new Map<string, SopMarks>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly subscribe: (listener: (event: RunEvent) => void) => () => void) {}

  /**
   * Starts hearing `runId`'s events now: none published after this call is missed. `sop` is its
   * SOP when known: the marks as they stand are kept of it alone (else of every SOP).
   */
  watch(runId: string, sop?: string): RunWatch {
    this.unsubscribe ??= this.subscribe((e) => this.dispatch(e));
    const watch = new RunWatch(runId, this, sop === undefined ? { every: new Map(this.marks) } : { sop, marks: this.sopMarks(sop) });
    let set = this.byRun.get(runId);
    if (set === undefined) this.byRun.set(runId, (set = new Set()));
    set.add(watch);
    return watch;
  }

  /** The SOP's marks as they stand (never changed in place). */
  sopMarks(sop: string): SopMarks {
    return this.marks.get(sop) ?? NONE;
  }

  /** @internal */
  watchSop(sop: string, watch: RunWatch): void {
    let set = this.bySop.get(sop);
    if (set === undefined) this.bySop.set(sop, (set = new Set()));
    set.add(watch);
  }

  /** @internal */
  unwatchSop(sop: string, watch: RunWatch): void {
    const set = this.bySop.get(sop);
    if (set?.delete(watch) && set.size === 0) this.bySop.delete(sop);
  }

  /** @internal */
  unwatch(watch: RunWatch): void {
    const set = this.byRun.get(watch.runId);
    if (set?.delete(watch) && set.size === 0) this.byRun.delete(watch.runId);
    if (this.byRun.size === 0 && this.bySop.size === 0) {
      // Nobody awaits a run: the bus need not call here, and the marks need not be kept.
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.marks.clear();
    }
  }

  private dispatch(event: RunEvent): void {
    const people = event.type === "approval_requested" || event.type === "manual_requested";
    if (people || event.type === "run_finished") {
      const was = this.sopMarks(event.sop);
      const marks = people ? { ...was, people: was.people + 1 } : { ...was, finished: was.finished + 1 };
      this.marks.set(event.sop, marks);
      const queued = this.bySop.get(event.sop);
      if (queued !== undefined) for (const watch of [...queued]) watch.sopMoved(marks);
    }
    const own = this.byRun.get(event.runId);
    if (own !== undefined) for (const watch of own) watch.heard(event);
  }
}
