/**
 * The library API of SPEC §5.1. A runner is a full node: it holds the driver, runs a worker,
 * and recovers what a previous process left behind.
 */
import { createHash } from "node:crypto";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { forecastRun, planRun, type Plan } from "../core/plan/plan-run.ts";
import { mayDecide } from "../core/run/decide.ts";
import type { RunEvent } from "../core/run/effects.ts";
import { InvalidCursorError } from "../core/run/run-cursor.ts";
import { ACTIVE_STATUSES, isAtRest, queuedBehindPeople, WAITING_STATUSES, OPEN_STATUSES, type Checkpoint, type RunState, type TriggerInfo } from "../core/run/run-state.ts";
import type { Diagnostic, LoadedSop, SopDefinition, VarValue } from "../core/sop/types.ts";
import { CommandMatcher } from "../core/triggers/command-matcher.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { ChainHead, RunFilter, RunPage, RunPageQuery, RunStore, StoredRun } from "../ports/run-store.ts";
import type { CronSchedule, ScheduleTick, WorkQueue } from "../ports/work-queue.ts";
import type { AuditSink } from "./audit-sink.ts";
import { fireTrigger, type Firing, type FiringOutcome } from "./fire-trigger.ts";
import { EndedWindows } from "./ended-window.ts";
import { formatDiagnostic } from "./load-sops.ts";
import type { Logger } from "./logger.ts";
import { Admissions, viaOf, type AdmissionListener } from "./run-admission.ts";
import type { ActorRef, RunEngine, RunRef, SweepReport } from "./run-engine.ts";
import { RunWatchers, type RunWatch, type SopMarks } from "./run-watchers.ts";
import type { LoadStats, SopCatalog } from "./sop-catalog.ts";
import { SopError } from "./sop-error.ts";
import { sopStatus, type SopStatus } from "./sop-status.ts";

export interface RunOptions {
  vars?: Record<string, VarValue>;
  skipApproval?: boolean;
  force?: boolean;
  actor?: string | ActorRef;
  trigger?: TriggerInfo;
  /** Default true: resolve when the run ends or waits for a person; false: once accepted. */
  wait?: boolean;
  /**
   * Refuse (`max_concurrent`) when the SOP already has `max_concurrent` runs queued or active,
   * rather than queue another behind them: a schedule that fires again while its last run still
   * goes must not pile up runs.
   */
  refuseWhenBusy?: boolean;
}

export interface DecisionOptions {
  actor?: string | ActorRef;
  runId?: string;
  comment?: string;
  reason?: string;
  checkpoint?: string;
  definitionHash?: string;
  /** Resolve once the run has moved on and ends or waits again (default false). */
  wait?: boolean;
}

export interface SopSummary {
  name: string;
  description: string;
  version: string;
  priority: string;
  execution_mode: string;
  cooldown_secs: number;
  max_concurrent: number;
  triggers: SopDefinition["triggers"];
  steps: number;
}


/** How often a caller waiting for a run looks at it without an event to say it changed. */
const LOOK_AGAIN_MS = 2000;

/** What a runner is made of; assembled by `openDeployment` (src/compose), never by its users. */
export interface RunnerParts {
  engine: RunEngine;
  catalog: SopCatalog;
  store: RunStore;
  events: EventBus;
  queue: WorkQueue;
  log: Logger;
  audit: AuditSink;
  /** Who acts when a caller names nobody (`local:<user>`). */
  defaultActor: string;
  now: () => number;
  onClose: () => Promise<void>;
}

/** What keeps a queued run from starting: the SOP's slots, all held by these runs. */
export interface StartBlock {
  maxConcurrent: number;
  holders: RunState[];
}

/** What a reload did: SOPs added, changed and removed, and what it read and parsed. */
export interface ReloadReport extends LoadStats {
  added: string[];
  changed: string[];
  removed: string[];
  /** Diagnostics the reload brought that were not there before. */
  fresh: Diagnostic[];
}

/**
 * The one way into the engine for the CLI, HTTP, the web UI, chat and triggers: runs are started,
 * decided and cancelled here, and everything they show is asked here. Nothing outside src/app
 * reads the store, the catalog or the engine.
 */
export class SopRunner {
  private matcher: CommandMatcher;
  private readonly windows: EndedWindows;
  private readonly admissions = new Admissions();
  private readonly watchers: RunWatchers;
  private readonly engine: RunEngine;
  private readonly catalog: SopCatalog;
  private readonly store: RunStore;
  private readonly bus: EventBus;
  private readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly audit: AuditSink;
  private readonly defaultActor: string;
  private readonly now: () => number;
  private readonly onClose: () => Promise<void>;

  constructor(parts: RunnerParts) {
    ({
      engine: this.engine, catalog: this.catalog, store: this.store, events: this.bus, queue: this.queue,
      log: this.log, audit: this.audit, defaultActor: this.defaultActor, now: this.now, onClose: this.onClose,
    } = parts);
    this.windows = new EndedWindows(this.store);
    this.watchers = new RunWatchers((listener) => this.bus.subscribe(listener));
    this.matcher = new CommandMatcher(this.catalog.list().map((s) => s.definition));
  }

  /** Run events as they happen (at most once each: a Redis pub/sub message may be lost). */
  readonly events = {
    subscribe: (listener: (event: RunEvent) => void): (() => void) => this.bus.subscribe(listener),
  };

  /**
   * Hand the schedule triggers of `defs` to the queue when it fires schedules itself (Redis:
   * once across every process). False when it does not, and the caller arms node-cron.
   */
  async syncSchedules(defs: readonly SopDefinition[]): Promise<boolean> {
    if (!this.queue.syncSchedules) return false;
    const schedules: CronSchedule[] = defs.flatMap((def) => def.triggers.flatMap((t) => {
      if (t.type !== "schedule") return [];
      const id = `schedule-${def.name}-${createHash("sha256").update(`${t.cron}\0${t.timezone ?? ""}`).digest("hex").slice(0, 12)}`;
      return [{ id, sop: def.name, cron: t.cron, ...(t.timezone ? { timezone: t.timezone } : {}) }];
    }));
    await this.queue.syncSchedules(schedules);
    return true;
  }

  /** A schedule tick from the queue: start the SOP unless its slots are all taken. */
  async onScheduleTick(job: ScheduleTick): Promise<void> {
    await this.fire({ sop: job.sop, type: "schedule", source: job.cron, refuseWhenBusy: true });
  }

  /** An automatic trigger fires (schedule, file_watch): started or refused; never throws. */
  fire(f: Firing): Promise<FiringOutcome | undefined> {
    return fireTrigger(this, f, this.log);
  }

  /** Hear every start this runner is asked for, accepted or refused; returns the function that stops it. */
  onAdmission(listener: AdmissionListener): () => void {
    return this.admissions.subscribe(listener);
  }

  get diagnostics(): Diagnostic[] {
    return this.catalog.diagnostics;
  }

  /** What the last load or reload of SOPS_DIR read and parsed. */
  get lastLoad(): LoadStats {
    return this.catalog.lastLoad;
  }

  /** Reloads every SOP, or only the named folders of SOPS_DIR (those a watcher saw change), and says what changed. */
  async reload(folders?: Iterable<string>): Promise<ReloadReport> {
    const before = new Map(this.catalog.list().map((s) => [s.definition.name, s.hash]));
    const known = new Set(this.catalog.diagnostics.map(formatDiagnostic));
    await (folders ? this.catalog.reloadFolders(folders) : this.catalog.reload());
    this.matcher = new CommandMatcher(this.catalog.list().map((s) => s.definition));
    const after = new Map(this.catalog.list().map((s) => [s.definition.name, s.hash]));
    return {
      ...this.catalog.lastLoad,
      added: [...after.keys()].filter((n) => !before.has(n)),
      removed: [...before.keys()].filter((n) => !after.has(n)),
      changed: [...after].filter(([n, h]) => before.has(n) && before.get(n) !== h).map(([n]) => n),
      fresh: this.catalog.diagnostics.filter((d) => !known.has(formatDiagnostic(d))),
    };
  }

  /** The SOP new runs of `name` start from (its definition, folder and hash); undefined when none is loaded. */
  sop(name: string): LoadedSop | undefined {
    return this.catalog.get(name);
  }

  /** Every SOP loaded, in name order. */
  sops(): LoadedSop[] {
    return this.catalog.list();
  }

  /** A run with the definition it pinned; undefined when there is none by that id. */
  run(runId: string): Promise<StoredRun | undefined> {
    return this.store.get(runId);
  }

  /** Where each SOP's audit chain stands in the store: what its files are verified against. */
  chainHeads(): Promise<Map<string, ChainHead>> {
    return this.store.chainHeads();
  }

  /**
   * Every run that matches, oldest first: meant for the runs going on (pass `statuses`, e.g.
   * OPEN_STATUSES), which are few. Without `statuses` it reads the whole history, ended runs
   * included, which grows without bound: pages of history are `history`.
   */
  runs(filter: RunFilter = {}): Promise<RunState[]> {
    return this.store.list(filter);
  }

  /** One page of history, newest first; `next` is the cursor of the page after it. A cursor not made here is refused (`invalid`). */
  async history(query: RunPageQuery): Promise<RunPage> {
    try {
      return await this.store.page(query);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new SopError("invalid", err.message);
      throw err;
    }
  }

  /** Ids of the runs that ended at or after `since` (epoch ms): what a notifier catches up on after being away. */
  endedSince(since: number): Promise<string[]> {
    return this.store.endedSince(since);
  }

  /** The runs that wait for a person's decision (an approval or a manual step), of one SOP or all. */
  waiting(sop?: string): Promise<RunState[]> {
    return this.store.list({ ...(sop !== undefined ? { sop } : {}), statuses: WAITING_STATUSES });
  }

  /** What a run will do from here: its pinned definition planned with its record's redacted variables. */
  async forecast(runId: string): Promise<Plan> {
    const stored = await this.store.get(runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
    return forecastRun(stored.definition, await this.audit.recordOf(stored));
  }

  /** Why a queued run has not started: its SOP's slots and the runs holding them; undefined when nothing blocks it. */
  async startBlock(runId: string): Promise<StartBlock | undefined> {
    const stored = await this.store.get(runId);
    return stored && this.blockOf(stored);
  }

  /**
   * Why a run has not started, from one read of it: whether it waits behind runs that wait for
   * people (their slots free only when someone decides), not merely for a slot about to free
   * (where `sop run` stops following and says so), and what holds its SOP's slots.
   */
  async queueState(runId: string): Promise<{ behindPeople: boolean; block: StartBlock | undefined }> {
    const stored = await this.store.get(runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
    if (stored.run.status !== "queued") return { behindPeople: false, block: undefined };
    const [behind, block] = await Promise.all([this.behindPeople(stored.run), this.blockOf(stored)]);
    return { behindPeople: behind.now, block };
  }

  private async blockOf(stored: StoredRun): Promise<StartBlock | undefined> {
    if (stored.run.status !== "queued") return undefined;
    const holders = (await this.store.list({ sop: stored.run.sop, statuses: ACTIVE_STATUSES })).filter((r) => r.id !== stored.run.id);
    const { maxConcurrent } = stored.definition;
    return holders.length >= maxConcurrent ? { maxConcurrent, holders } : undefined;
  }

  /**
   * The checkpoint of a run that `actor` could decide now (the named one, or the one pending),
   * undefined when it does not wait there or they may not: what a Deny click asks before it
   * opens a form for the reason. The decision itself is still the engine's.
   */
  async decidable(runId: string, actor: string | ActorRef, checkpoint?: string): Promise<Checkpoint | undefined> {
    const run = (await this.store.get(runId))?.run;
    const cp = run && (checkpoint === undefined ? run.checkpoints.find((c) => c.status === "pending") : run.checkpoints.find((c) => c.id === checkpoint));
    if (cp?.status !== "pending") return undefined;
    return mayDecide(await this.engine.resolveActor(this.actor(actor), cp.approvers), cp.approvers) ? cp : undefined;
  }

  /** Whether `actor` is an admin (SOP_ADMINS, by identity or group). */
  async isAdmin(actor: string | ActorRef): Promise<boolean> {
    return (await this.engine.resolveActor(this.actor(actor))).admin;
  }

  private actor(a: string | ActorRef | undefined): ActorRef {
    if (a === undefined) return { id: this.defaultActor };
    return typeof a === "string" ? { id: a } : a;
  }

  /** Every way of starting a run comes through here, and every start is told to `onAdmission`'s listeners. */
  async execute(name: string, opts: RunOptions = {}): Promise<AuditRecord> {
    let watch: RunWatch | undefined;
    const actor = this.actor(opts.actor);
    const trigger = opts.trigger ?? { type: "manual" };
    const told = { sop: name, trigger: trigger.type, via: viaOf(trigger), actor: actor.id };
    const tell = (admission: Parameters<AdmissionListener>[0]): void => {
      this.admissions.emit(admission, (err) => {
        this.log.error({ err, sop: name }, "a listener of run admissions failed");
      });
    };
    try {
      // Watched from before its admission when awaited: no event of the run is missed, so the run
      // as admitted stands until one comes.
      const watching = opts.wait === false ? undefined : (runId: string) => void (watch = this.watchers.watch(runId, name));
      const stored = await this.admit(name, opts, actor, trigger, watching).catch((err: unknown) => {
        if (err instanceof SopError) tell({ ...told, accepted: false, code: err.code, message: err.message });
        throw err;
      });
      const { run } = stored;
      tell({ ...told, accepted: true, runId: run.id });
      // The run as accepted: nothing to read back (it may have moved on since, as it may right after).
      if (watch === undefined) return await this.audit.recordOf(stored);
      return await this.untilAtRest(watch, stored);
    } finally {
      watch?.stop();
    }
  }

  private async admit(name: string, opts: RunOptions, actor: ActorRef, trigger: TriggerInfo, watch?: (runId: string) => void): Promise<StoredRun> {
    const def = this.catalog.get(name)?.definition;
    if (opts.refuseWhenBusy && def) {
      const busy = await this.store.list({ sop: name, statuses: OPEN_STATUSES });
      if (busy.length >= def.maxConcurrent) {
        const runs = busy.map((r) => `${r.id} ${r.status}`).join(", ");
        throw new SopError("max_concurrent", `${name} already has ${busy.length} run${busy.length === 1 ? "" : "s"} going (max_concurrent = ${def.maxConcurrent}): ${runs}`);
      }
    }
    return this.engine.execute(name, {
      actor, trigger,
      ...(opts.vars ? { vars: opts.vars } : {}),
      ...(opts.skipApproval ? { skipApproval: true } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(watch ? { watch } : {}),
    });
  }

  /** Approve (or mark Done) what a run waits for: by SOP name, by run id (`{ runId }`), or both. */
  async approve(target: string | RunRef, opts: DecisionOptions = {}): Promise<{ message: string; record: AuditRecord }> {
    return this.decision(target, "approve", opts.comment, opts);
  }

  /** Deny (or mark Failed) what a run waits for: by SOP name, by run id (`{ runId }`), or both. */
  async deny(target: string | RunRef, opts: DecisionOptions = {}): Promise<{ message: string; record: AuditRecord }> {
    return this.decision(target, "deny", opts.reason ?? opts.comment, opts);
  }

  private async decision(target: string | RunRef, decision: "approve" | "deny", comment: string | undefined, opts: DecisionOptions) {
    const ref: RunRef = typeof target === "string" ? { sop: target } : target;
    const runId = opts.runId ?? ref.runId;
    const { message, run } = await this.engine.decide(
      { ...(ref.sop ? { sop: ref.sop } : {}), ...(runId ? { runId } : {}) },
      {
        actor: this.actor(opts.actor), decision,
        ...(comment !== undefined ? { comment } : {}),
        ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}),
        ...(opts.definitionHash !== undefined ? { definitionHash: opts.definitionHash } : {}),
      },
    );
    // Without `wait` the answer need not wait for audit files on disk: it is built from the store.
    const record = opts.wait ? await this.follow(run.id) : await this.currentRecord(run.id);
    return { message, record };
  }

  async cancel(nameOrRunId: string | RunRef, opts: { actor?: string | ActorRef; reason?: string } = {}): Promise<{ message: string; record: AuditRecord }> {
    const { message, run } = await this.engine.cancel(nameOrRunId, this.actor(opts.actor), opts.reason);
    return { message, record: await this.record(run.id) };
  }

  /** Whether some SOP's `command` trigger matches the text (nothing is started). */
  hasTrigger(text: string): boolean {
    return this.matcher.match(text).length > 0;
  }

  /** Feed a command trigger: every SOP whose pattern matches starts with the captures as vars. */
  async trigger(text: string, opts: { actor?: string | ActorRef; source?: string; wait?: boolean } = {}) {
    const matches = this.matcher.match(text);
    const results: { sop: string; record?: AuditRecord; error?: SopError }[] = [];
    for (const m of matches) {
      try {
        const trigger: TriggerInfo = { type: "command", text, ...(opts.source ? { source: opts.source } : {}) };
        const record = await this.execute(m.sop, { vars: m.vars, trigger, actor: this.actor(opts.actor), wait: opts.wait ?? false });
        results.push({ sop: m.sop, record });
      } catch (err) {
        if (!(err instanceof SopError)) throw err;
        results.push({ sop: m.sop, error: err });
      }
    }
    return results;
  }

  list(): SopSummary[] {
    return this.catalog.list().map(({ definition: d }) => ({
      name: d.name, description: d.description, version: d.version, priority: d.priority,
      execution_mode: d.executionMode, cooldown_secs: d.cooldownSecs, max_concurrent: d.maxConcurrent,
      triggers: d.triggers, steps: d.steps.length,
    }));
  }

  plan(name: string, vars: Record<string, VarValue> = {}): Plan {
    const sop = this.catalog.get(name);
    if (!sop) throw new SopError("unknown_sop", `unknown SOP "${name}"`);
    return planRun(sop.definition, vars);
  }

  async getStatus(name: string): Promise<SopStatus> {
    const sop = this.catalog.get(name);
    // The runs going on, and a window of the latest ended ones for the metrics: never all history.
    const [open, recent, cooldown] = await Promise.all([
      this.store.list({ sop: name, statuses: OPEN_STATUSES }),
      this.windows.get(name),
      this.store.cooldownRemaining(name, sop?.definition.cooldownSecs ?? 0, this.now()),
    ]);
    if (!sop && open.length === 0 && recent.runs.length === 0) throw new SopError("unknown_sop", `unknown SOP "${name}"`);
    return sopStatus(name, [...open, ...recent.runs], cooldown, recent.count);
  }


  /** A run as it stands, with its redacted record, without waiting for audit files; undefined when unknown. */
  async snapshot(runId: string): Promise<{ stored: StoredRun; record: AuditRecord } | undefined> {
    const stored = await this.store.get(runId);
    return stored && { stored, record: await this.audit.recordOf(stored) };
  }

  private async currentRecord(runId: string): Promise<AuditRecord> {
    const stored = await this.store.get(runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
    return this.audit.recordOf(stored);
  }

  /**
   * The audit record of a run as it stands (redacted; sealed once ended), once its audit file
   * holds it. Only this run's writes are waited for: with hundreds of runs going on, the writes of
   * the others never all settle at once.
   */
  async record(runId: string): Promise<AuditRecord> {
    const stored = await this.store.get(runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
    return this.settled(stored);
  }

  /** Look now for runs nobody moves (see `RunEngine.sweep`); every worker does this on its own timer. */
  sweep(): Promise<SweepReport> {
    return this.engine.sweep();
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  /**
   * Until the run ends or waits for a person (or is queued behind runs that do), telling
   * `onUpdate` the run's record each time it is looked at: what `sop run` prints progress from.
   */
  async follow(runId: string, onUpdate?: (record: AuditRecord) => void): Promise<AuditRecord> {
    const watch = this.watchers.watch(runId);
    try {
      return await this.untilAtRest(watch, undefined, onUpdate);
    } finally {
      watch.stop();
    }
  }

  /**
   * Until the watched run is at rest. `known` is the run as admitted once the watch began: it
   * stands for the run until an event of the run comes, and is not read back.
   */
  private async untilAtRest(watch: RunWatch, known?: StoredRun, onUpdate?: (record: AuditRecord) => void): Promise<AuditRecord> {
    const { runId } = watch;
    // What else than the run's own events may bring it to rest: while it is queued, runs of its SOP
    // that start waiting for people, or (when some wait) that end; nothing once it has started.
    // Those are counted per SOP (`SopMarks`): the marks as they stood before the run was read
    // tell whether any came while it was read.
    let sop = known?.run.sop;
    for (let first = true; ; first = false) {
      const heard = watch.own;
      let before = first || sop === undefined ? undefined : this.watchers.sopMarks(sop);
      let stored: StoredRun | undefined;
      if (first && known !== undefined && heard === 0) {
        stored = known;
      } else {
        // Ended here: the final record this process wrote durably before announcing the end.
        const final = onUpdate === undefined && watch.last?.type === "run_finished" ? this.audit.finalOf(runId) : undefined;
        if (final !== undefined) return final;
        stored = await this.store.get(runId);
      }
      if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
      sop = stored.run.sop;
      before ??= watch.startMarks(sop);
      if (onUpdate) onUpdate(await this.audit.recordOf(stored));
      if (isAtRest(stored.run.status)) return await this.settled(stored);
      watch.others = undefined;
      if (stored.run.status === "queued") {
        const behind = await this.behindPeople(stored.run);
        if (behind.now) return await this.record(runId);
        const seen = before;
        const matters = (m: SopMarks): boolean => m.people !== seen.people || (behind.someWait && m.finished !== seen.finished);
        if (matters(this.watchers.sopMarks(sop))) continue;
        watch.others = matters;
      }
      // Heard while it was read: look again.
      if (watch.own !== heard) continue;
      // Events are at most once (a Redis pub/sub message can be lost): look again now and then.
      await watch.next(LOOK_AGAIN_MS, watch.others === undefined ? undefined : sop);
    }
  }

  /** The record of a run at rest, once its file holds it. */
  private async settled(stored: StoredRun): Promise<AuditRecord> {
    await this.audit.settle(stored);
    return this.audit.recordOf(stored);
  }

  /**
   * `queuedBehindPeople`, asked of the store (`now`), and whether any run of the SOP waits for
   * people (`someWait`: then a run that ends may leave the queued one behind them). A run about
   * to take a free slot is not behind anyone.
   */
  private async behindPeople(run: RunState): Promise<{ now: boolean; someWait: boolean }> {
    const { store } = this;
    // Counted, not read: with thousands of runs waiting, this is asked for every queued run; the
    // line is looked at only when the counts say the run may be behind people. Runs that go on
    // are counted only when some wait: with none waiting, nobody is behind people.
    const waiting = await store.count(run.sop, WAITING_STATUSES);
    if (waiting === 0) return { now: false, someWait: false };
    const running = await store.count(run.sop, ["running"]);
    if (!queuedBehindPeople({ running, waiting })) return { now: false, someWait: true };
    const now = !(await store.startable(run.sop)).includes(run.id) && (await store.get(run.id))?.run.status === "queued";
    return { now, someWait: true };
  }


}
