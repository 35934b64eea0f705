/**
 * Puts a deployment together: the driver its options name (Redis with REDIS_URL, else the local
 * files in DATA_DIR), the SOP catalog, the engine and the audit sink, behind one `SopRunner`. The
 * only module that knows every part: `sop serve`, `sop worker`, the CLI and library users start
 * here, and everything else reaches the engine through the runner it returns.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { AuditSink, buildRecord } from "../app/audit-sink.ts";
import { silentLogger, type Logger } from "../app/logger.ts";
import { RunEngine } from "../app/run-engine.ts";
import { logRefusals, logRunActivity } from "../app/run-log.ts";
import { SopCache } from "../app/sop-cache.ts";
import { SopCatalog } from "../app/sop-catalog.ts";
import { Retention } from "../app/retention.ts";
import { SopRunner } from "../app/sop-runner.ts";
import { readConfig, type Config } from "../config/config.ts";
import { openLocalDriver } from "../drivers/local/index.ts";
import type { BullmqQueue } from "../drivers/redis/index.ts";
import { thisMachine } from "../exec/process-identity.ts";
import { ShellExecutor } from "../exec/shell-executor.ts";
import { stopOrphan } from "../exec/stop-orphan.ts";
import { systemClock, type Clock } from "../ports/clock.ts";
import { endsAfterTheirFiles } from "../app/ends-after-files.ts";
import type { RunEvent } from "../core/run/effects.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { MessageLedger } from "../ports/message-ledger.ts";
import type { StoredRun } from "../ports/run-store.ts";
import type { StepExecutor } from "../ports/step-executor.ts";
import type { WorkQueue } from "../ports/work-queue.ts";

export interface SopRunnerOptions {
  /**
   * The settings the entry points already read (`sop serve`, `sop worker`, the CLI), so the
   * environment is read once; without it, read from `env`. The options below win over it.
   */
  config?: Config;
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
   * Prune ended runs past SOP_RETENTION_DAYS, at start and hourly (`sop serve`, `sop worker`);
   * default false, so a CLI command never prunes.
   */
  retention?: boolean;
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

/** A runner and what the chat side keeps beside it in the same deployment. */
export interface Deployment {
  runner: SopRunner;
  /** What the chat adapters posted about each run, and which messages and requests they handled. */
  ledger: MessageLedger;
  /** The BullMQ queue on the Redis driver (for Bull Board); undefined on the local driver. */
  bullQueue?: Queue;
}

/** The library's way in (SPEC §5.1): a runner on the deployment the options (or the environment) name. */
export async function createSopRunner(options: SopRunnerOptions = {}): Promise<SopRunner> {
  return (await openDeployment(options)).runner;
}

/** By what it offers, not by class: the Redis driver's module is loaded only with REDIS_URL. */
function isBullmqQueue(queue: WorkQueue): queue is BullmqQueue {
  return "bullQueue" in queue && typeof queue.bullQueue === "function";
}

export async function openDeployment(options: SopRunnerOptions = {}): Promise<Deployment> {
  const env = options.env ?? process.env;
  const config = options.config ?? readConfig(env);
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
  // The engine's own changes reach the audit sink through `changed`, with the run as written; the
  // bus brings it those of other processes (with Redis every process hears every run's events and
  // keeps its LOGS_DIR complete). Subscribed before anyone else, so a record's write is under way
  // before listeners hear of the change.
  const ownEvents = new WeakSet<RunEvent>();
  const engineEvents: EventBus = {
    publish: (event) => {
      ownEvents.add(event);
      return driver.events.publish(event);
    },
    subscribe: (handler) => driver.events.subscribe(handler),
    close: () => driver.events.close(),
  };
  const stopAudit = driver.events.subscribe((event) => {
    if (!ownEvents.has(event)) void audit.update(event.runId);
  });
  // What this process's listeners hear: an end another process announced, once its file is final here too.
  const heard = options.auditFiles === false || readOnly ? driver.events : endsAfterTheirFiles(driver.events, {
    ownEvent: (event) => ownEvents.has(event),
    finalLanded: (runId) => audit.finalLanded(runId),
    onError: (err, event) => log.error({ err, runId: event.runId }, `a listener of ${event.type} of run ${event.runId} failed`),
  });
  // Without a logger the run log would read the store for lines nobody sees.
  const stopRunLog = readOnly || log === silentLogger ? () => undefined : logRunActivity(driver.events, driver.store, log);
  // $SOP_OUTPUT files are not pre-created: their folder is private and their names random.
  const outputDir = await mkdtemp(join(tmpdir(), "sop-output-"));
  const machine = thisMachine();
  const engine = new RunEngine({
    store: driver.store, queue: driver.queue, events: engineEvents,
    executor: options.executor ?? new ShellExecutor(),
    catalog, log, now, newId: randomUUID,
    admins: [...(options.admins ?? config.admins), localUser],
    env, tmpDir: outputDir,
    recordOf: (stored) => buildRecord(stored, secretValues(stored)),
    // An end resolves once its final record is on disk (retries included): it is announced only then.
    changed: (stored, sealed) => (sealed === undefined ? audit.update(stored.run.id, { stored }) : audit.writeFinal(stored.run.id, { stored, sealed })),
    owner: `${machine.host}:${process.pid}:${randomUUID().slice(0, 8)}`,
    claimTtlMs: options.claimTtlMs ?? config.claimTtlMs,
    machine,
    stopOrphan: (process) => stopOrphan(process, machine),
  });
  let maintenance: NodeJS.Timeout | undefined;
  const retentionDays = options.retention === true && !readOnly ? config.retentionDays : undefined;
  const retention = retentionDays === undefined ? undefined : new Retention({ store: driver.store, days: retentionDays, clock, log });
  // Background work this process started (a sweep, audit catch-up): closing waits for it.
  const background = new Set<Promise<unknown>>();
  const inBackground = (what: string, work: () => Promise<unknown>): void => {
    const p = work().catch((err: unknown) => log.error({ err }, what)).finally(() => background.delete(p));
    background.add(p);
  };
  const runner = new SopRunner({ engine, catalog, store: driver.store, events: heard, queue: driver.queue, log, audit, defaultActor: localUser, now, onClose: async () => {
    clearInterval(maintenance);
    await retention?.stop();
    // Commands running finish; no further one starts. Handlers still running may end runs and
    // nudge the next ones; the queue takes those until it is closed.
    engine.quiesce();
    await driver.queue.close();
    // Ends announced once their final record is on disk: told before the bus closes. Those whose
    // record cannot be written (LOGS_DIR full or gone) are not waited for: they go unannounced.
    audit.giveUpWaiting();
    await engine.idle();
    engine.stop();
    await Promise.all(background);
    stopAudit();
    stopRunLog();
    await audit.drain();
    audit.close();
    await driver.close();
    await rm(outputDir, { recursive: true, force: true });
  } });
  runner.onAdmission(logRefusals(log));
  if (worker) {
    driver.queue.process((job) => (job.kind === "schedule" ? runner.onScheduleTick(job) : engine.handle(job)), options.concurrency ?? config.workerConcurrency);
    // What a process that stopped left behind: orphaned steps, queued runs whose nudge was lost,
    // and (with a queue that lost them) the timers of waiting runs.
    await engine.sweep({ timers: !driver.queue.durable });
  }
  // Files of runs that changed while no process wrote them (a process killed between a run's end
  // and its file, or down while others worked): every process that writes files catches up.
  // Retention starts only once they are: it prunes up to what the store says is written, and a
  // LOGS_DIR emptied or replaced since is written again from the store first. When that fails the
  // process does not prune (the error says why; the next start tries again).
  if (!readOnly) inBackground("audit: cannot bring LOGS_DIR up to date; ended runs are not pruned until a start succeeds", () => audit.reconcile().then(() => retention?.start()));
  const interval = options.sweepIntervalMs ?? config.sweepIntervalMs;
  if (!readOnly) {
    maintenance = setInterval(() => {
      if (worker) inBackground("sweep: cannot look for runs nobody moves", () => engine.sweep());
      inBackground("audit: cannot bring LOGS_DIR up to date", () => audit.catchUp());
    }, interval);
    // Unref'd: a process with nothing else to do may end (a CLI whose run waits for a person).
    maintenance.unref();
  }
  const bullQueue = isBullmqQueue(driver.queue) ? driver.queue.bullQueue() : undefined;
  return { runner, ledger: driver.ledger, ...(bullQueue ? { bullQueue } : {}) };
}
