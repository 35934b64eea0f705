/**
 * The library API of SPEC §5.1. A runner is a full node: it holds the driver, runs a worker,
 * and recovers what a previous process left behind.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { planRun, type Plan } from "../core/plan/plan-run.ts";
import type { RunEvent } from "../core/run/effects.ts";
import { isAtRest, OPEN_STATUSES, WAITING_STATUSES, type RunState, type TriggerInfo } from "../core/run/run-state.ts";
import type { Diagnostic, SopDefinition, VarValue } from "../core/sop/types.ts";
import { CommandMatcher } from "../core/triggers/command-matcher.ts";
import { openLocalDriver } from "../drivers/local/index.ts";
import type { BullmqQueue } from "../drivers/redis/index.ts";
import { thisMachine } from "../exec/process-identity.ts";
import { ShellExecutor } from "../exec/shell-executor.ts";
import { stopOrphan } from "../exec/stop-orphan.ts";
import { readConfig } from "../main/config.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { MessageLedger } from "../ports/message-ledger.ts";
import type { RunStore, StoredRun } from "../ports/run-store.ts";
import type { StepExecutor } from "../ports/step-executor.ts";
import type { CronSchedule, ScheduleTick, WorkQueue } from "../ports/work-queue.ts";
import { fireTrigger, type Firing, type FiringOutcome } from "./fire-trigger.ts";
import { AuditSink, buildRecord } from "./audit-sink.ts";
import { Admissions, viaOf, type AdmissionListener } from "./run-admission.ts";
import { logRefusals, logRunActivity } from "./run-log.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { RunEngine, type ActorRef, type RunRef, type SweepReport } from "./run-engine.ts";
import { SopCache } from "./sop-cache.ts";
import { SopCatalog } from "./sop-catalog.ts";
import { SopError } from "./sop-error.ts";
import { sopStatus, type SopStatus } from "./sop-status.ts";
import { systemClock, type Clock } from "../ports/clock.ts";

export interface SopRunnerOptions {
  sopsDir?: string;
  logsDir?: string;
  dataDir?: string;
  redisUrl?: string;
  /** Identities allowed everything (SOP_ADMINS). */
  admins?: string[];
  /** Environment for defaults, `[secrets]` and the commands' base environment; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  /** Runs advanced at once by this process's worker; default 4. */
  concurrency?: number;
  executor?: StepExecutor;
  /** What the runner reads the time from and waits on (timeouts, retries); default the system clock. */
  clock?: Clock;
  /** The time alone (default the clock's). */
  now?: () => number;
  /** Who holds DATA_DIR, for the lock message ("sop serve", "sop run" …). */
  owner?: string;
  /** Run a worker in this process (default true); `sop serve` with SOP_WORKER=0 runs none. */
  worker?: boolean;
  /**
   * Keep audit files in LOGS_DIR (default true). With Redis, `sop serve` writes every run's
   * record from the events it hears; `sop worker` processes write none unless SOP_AUDIT_FILES=1.
   */
  auditFiles?: boolean;
  /**
   * Only look (`sop status`, `sop list`): no worker, no lock on DATA_DIR, no audit writes, and
   * every change refused. Nothing is recovered or moved on: that is a worker's job.
   */
  readOnly?: boolean;
  /** How long a claim on a run lasts without renewal (default SOP_LOCK_DURATION_MS, 30 s). */
  claimTtlMs?: number;
  /** How often this process looks for runs nobody moves (default SOP_SWEEP_INTERVAL_MS, 30 s). */
  sweepIntervalMs?: number;
  /**
   * Parsed SOPs in DATA_DIR/cache/sops (sop-cache.ts): "write" (`sop serve`) uses, adds and
   * prunes entries; "read" (the default, and always with readOnly) only uses what is there.
   */
  sopCache?: "write" | "read" | "off";
}

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

export class SopRunner {
  private matcher: CommandMatcher;
  private readonly admissions = new Admissions();

  constructor(
    readonly engine: RunEngine,
    readonly catalog: SopCatalog,
    readonly store: RunStore,
    readonly events: EventBus,
    /** What the chat adapters posted about each run. */
    readonly ledger: MessageLedger,
    private readonly queue: WorkQueue,
    private readonly log: Logger,
    private readonly audit: AuditSink,
    private readonly defaultActor: string,
    private readonly now: () => number,
    private readonly onClose: () => Promise<void>,
  ) {
    this.matcher = new CommandMatcher(catalog.list().map((s) => s.definition));
  }

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

  /** An automatic trigger fires (schedule, file_watch): started or refused, logged; never throws. */
  fire(f: Firing): Promise<FiringOutcome | undefined> {
    return fireTrigger(this, f, this.log);
  }

  /** Hear every start this runner is asked for, accepted or refused; returns the function that stops it. */
  onAdmission(listener: AdmissionListener): () => void {
    return this.admissions.subscribe(listener);
  }

  /** The BullMQ queue on the Redis driver (for Bull Board); undefined on the local driver. */
  bullQueue(): Queue | undefined {
    return isBullmqQueue(this.queue) ? this.queue.bullQueue() : undefined;
  }

  get diagnostics(): Diagnostic[] {
    return this.catalog.diagnostics;
  }

  /** Reloads every SOP, or only the named folders of SOPS_DIR (those a watcher saw change). */
  async reload(folders?: Iterable<string>): Promise<void> {
    await (folders ? this.catalog.reloadFolders(folders) : this.catalog.reload());
    this.matcher = new CommandMatcher(this.catalog.list().map((s) => s.definition));
  }

  private actor(a: string | ActorRef | undefined): ActorRef {
    if (a === undefined) return { id: this.defaultActor };
    return typeof a === "string" ? { id: a } : a;
  }

  /** Every way of starting a run comes through here, and every start is told to `onAdmission`'s listeners. */
  async execute(name: string, opts: RunOptions = {}): Promise<AuditRecord> {
    const seen = this.collect();
    const actor = this.actor(opts.actor);
    const trigger = opts.trigger ?? { type: "manual" };
    const told = { sop: name, trigger: trigger.type, via: viaOf(trigger), actor: actor.id };
    const tell = (admission: Parameters<AdmissionListener>[0]) =>
      this.admissions.emit(admission, (err) => this.log.error({ err, sop: name }, "a listener of run admissions failed"));
    try {
      const run = await this.admit(name, opts, actor, trigger).catch((err: unknown) => {
        if (err instanceof SopError) tell({ ...told, accepted: false, code: err.code, message: err.message });
        throw err;
      });
      tell({ ...told, accepted: true, runId: run.id });
      if (opts.wait === false) return this.record(run.id);
      return await this.untilAtRest(run.id, seen);
    } finally {
      seen.stop();
    }
  }

  private async admit(name: string, opts: RunOptions, actor: ActorRef, trigger: TriggerInfo): Promise<RunState> {
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
    });
  }

  async approve(name: string, opts: DecisionOptions = {}): Promise<{ message: string; record: AuditRecord }> {
    return this.decision(name, "approve", opts.comment, opts);
  }

  async deny(name: string, opts: DecisionOptions = {}): Promise<{ message: string; record: AuditRecord }> {
    return this.decision(name, "deny", opts.reason ?? opts.comment, opts);
  }

  private async decision(name: string, decision: "approve" | "deny", comment: string | undefined, opts: DecisionOptions) {
    const seen = this.collect();
    try {
      const { message, run } = await this.engine.decide(
        { sop: name, ...(opts.runId ? { runId: opts.runId } : {}) },
        {
          actor: this.actor(opts.actor), decision,
          ...(comment !== undefined ? { comment } : {}),
          ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}),
          ...(opts.definitionHash !== undefined ? { definitionHash: opts.definitionHash } : {}),
        },
      );
      // Without `wait` the answer need not wait for audit files on disk: it is built from the store.
      const record = opts.wait ? await this.untilAtRest(run.id, seen) : await this.currentRecord(run.id);
      return { message, record };
    } finally {
      seen.stop();
    }
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
    const runs = await this.store.list({ sop: name });
    if (!sop && runs.length === 0) throw new SopError("unknown_sop", `unknown SOP "${name}"`);
    return sopStatus(this.store, name, sop?.definition.cooldownSecs ?? 0, this.now());
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

  /** The audit record of a run as it stands (redacted; sealed once ended), after pending audit writes. */
  async record(runId: string): Promise<AuditRecord> {
    const stored = await this.store.get(runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
    await this.audit.drain();
    return this.audit.recordOf((await this.store.get(runId)) ?? stored);
  }

  /** Look now for runs nobody moves (see `RunEngine.sweep`); every worker does this on its own timer. */
  sweep(): Promise<SweepReport> {
    return this.engine.sweep();
  }

  async close(): Promise<void> {
    await this.onClose();
  }

  /** Events seen since now, so none is missed between starting something and waiting for it. */
  private collect() {
    const waiters = new Set<() => void>();
    const stop = this.events.subscribe((_e: RunEvent) => { for (const w of waiters) w(); });
    return { waiters, stop };
  }

  private async untilAtRest(runId: string, seen: { waiters: Set<() => void> }): Promise<AuditRecord> {
    for (;;) {
      const changed = new Promise<void>((resolve) => seen.waiters.add(resolve));
      const stored = await this.store.get(runId);
      if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
      if (isAtRest(stored.run.status) || (await this.queuedBehindPeople(stored.run))) return this.record(runId);
      // Events are at most once (a Redis pub/sub message can be lost): look again now and then.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, LOOK_AGAIN_MS)))]);
      clearTimeout(timer);
    }
  }

  /**
   * A queued run whose SOP's slots are all held by runs that wait for people waits for people
   * too: nothing but a decision (or a cancel) will let it start.
   */
  private async queuedBehindPeople(run: RunState): Promise<boolean> {
    const { store } = this;
    if (run.status !== "queued" || (await store.startable(run.sop)).includes(run.id)) return false;
    // Counted, not read: with thousands of runs waiting, this is asked for every queued run.
    if ((await store.count(run.sop, ["running"])) > 0) return false;
    return (await store.count(run.sop, WAITING_STATUSES)) > 0 && (await store.get(run.id))?.run.status === "queued";
  }


}

/** By what it offers, not by class: the Redis driver's module is loaded only with REDIS_URL. */
function isBullmqQueue(queue: WorkQueue): queue is BullmqQueue {
  return "bullQueue" in queue && typeof queue.bullQueue === "function";
}

export async function createSopRunner(options: SopRunnerOptions = {}): Promise<SopRunner> {
  const env = options.env ?? process.env;
  const config = readConfig(env);
  const log = options.log ?? silentLogger;
  const localUser = `local:${userInfo().username}`;
  const readOnly = options.readOnly === true;
  const dataDir = options.dataDir ?? config.dataDir;
  const cacheMode = options.sopCache ?? "read";
  const cache = cacheMode === "off" ? undefined : new SopCache(dataDir, { readOnly: readOnly || cacheMode === "read" });
  const catalog = await new SopCatalog(options.sopsDir ?? config.sopsDir, cache).reload();
  const redisUrl = options.redisUrl ?? config.redisUrl;
  const worker = options.worker !== false && !readOnly;
  const onError = (err: unknown, where: string): void => log.error({ err }, `${where} failed`);
  // The Redis driver is imported only when it is used: BullMQ and ioredis would add some 20 MiB
  // and their load time to every process on the local driver.
  const driver = redisUrl
    ? await (await import("../drivers/redis/index.ts")).openRedisDriver({ url: redisUrl, ...config.redis, onError, onNotice: (m, level) => log[level]({}, m), readOnly })
    : await openLocalDriver({
      dataDir, owner: options.owner ?? "sop-runner", readOnly,
      ...(options.clock ? { clock: options.clock } : {}),
      onProblem: (m) => log.error({}, m), onError,
    });
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const secretValues = (stored: StoredRun): string[] => stored.definition.secrets.flatMap((n) => (env[n] ? [env[n]] : []));
  const audit = new AuditSink({
    logsDir: options.logsDir ?? config.logsDir,
    store: driver.store,
    secretValues,
    log,
    writes: options.auditFiles !== false && !readOnly,
    clock,
  });
  // Subscribed before anyone else, so a record's write is under way before listeners hear of the
  // change. With Redis every process hears every run's events and keeps its LOGS_DIR complete.
  const stopAudit = driver.events.subscribe((event) => void audit.update(event.runId));
  const stopRunLog = readOnly ? () => undefined : logRunActivity(driver.events, driver.store, log);
  // $SOP_OUTPUT files are not pre-created: their folder is private and their names random.
  const outputDir = await mkdtemp(join(tmpdir(), "sop-output-"));
  const machine = thisMachine();
  const engine = new RunEngine({
    store: driver.store, queue: driver.queue, events: driver.events,
    executor: options.executor ?? new ShellExecutor(),
    catalog, log, now, newId: randomUUID,
    admins: [...(options.admins ?? config.admins), localUser],
    env, tmpDir: outputDir,
    recordOf: (stored) => buildRecord(stored, secretValues(stored)),
    changed: (runId) => void audit.update(runId),
    owner: `${machine.host}:${process.pid}:${randomUUID().slice(0, 8)}`,
    claimTtlMs: options.claimTtlMs ?? config.claimTtlMs,
    machine,
    stopOrphan: (process) => stopOrphan(process, machine),
  });
  let maintenance: NodeJS.Timeout | undefined;
  // Background work this process started (a sweep, audit catch-up): closing waits for it.
  const background = new Set<Promise<unknown>>();
  const inBackground = (what: string, work: () => Promise<unknown>): void => {
    const p = work().catch((err: unknown) => log.error({ err }, what)).finally(() => background.delete(p));
    background.add(p);
  };
  const runner = new SopRunner(engine, catalog, driver.store, driver.events, driver.ledger, driver.queue, log, audit, localUser, now, async () => {
    clearInterval(maintenance);
    // Commands running finish; no further one starts. Handlers still running may end runs and
    // nudge the next ones; the queue takes those until it is closed.
    engine.quiesce();
    await driver.queue.close();
    engine.stop();
    await Promise.all(background);
    stopAudit();
    stopRunLog();
    await audit.drain();
    audit.close();
    await driver.close();
    await rm(outputDir, { recursive: true, force: true });
  });
  runner.onAdmission(logRefusals(log));
  if (worker) {
    driver.queue.process((job) => (job.kind === "schedule" ? runner.onScheduleTick(job) : engine.handle(job)), options.concurrency ?? config.workerConcurrency);
    // What a process that stopped left behind: orphaned steps, queued runs whose nudge was lost,
    // and (with a queue that lost them) the timers of waiting runs.
    await engine.sweep({ timers: !driver.queue.durable });
  }
  // Files of runs that changed while no process wrote them (a process killed between a run's end
  // and its file, or down while others worked): every process that writes files catches up.
  if (!readOnly) inBackground("audit: cannot bring LOGS_DIR up to date", () => audit.reconcile());
  const interval = options.sweepIntervalMs ?? config.sweepIntervalMs;
  if (!readOnly) {
    maintenance = setInterval(() => {
      if (worker) inBackground("sweep: cannot look for runs nobody moves", () => engine.sweep());
      inBackground("audit: cannot bring LOGS_DIR up to date", () => audit.catchUp());
    }, interval);
    // Unref'd: a process with nothing else to do may end (a CLI whose run waits for a person).
    maintenance.unref();
  }
  return runner;
}
