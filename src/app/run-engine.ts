/**
 * The shell around the pure state machine: loads a run from the store, applies an input, stores
 * the result by compare-and-set together with what it implies (a slot when the run starts; the
 * seal of its audit record and the freed slot when it ends), and performs the effects. Commands
 * run only in `handle` (a worker), by whoever holds the run's claim.
 */
import { pendingTimers, targetKey, type EventResult, type RunInput } from "../core/run/apply-event.ts";
import { applyInOrder, type OrderedResult, type TimedInput } from "../core/run/apply-in-order.ts";
import { mayDecide, type Actor } from "../core/run/decide.ts";
import type { Effect } from "../core/run/effects.ts";
import { newRun } from "../core/run/new-run.ts";
import { isTerminal, OPEN_STATUSES, type CommandProcess, type RunState, type TriggerInfo } from "../core/run/run-state.ts";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { VarValue } from "../core/sop/types.ts";
import { sealRecord } from "../audit/hash-record.ts";
import type { MachineIdentity } from "../exec/process-identity.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { ChainHead, ClaimWrite, RunEnding, RunStore, StoredRun } from "../ports/run-store.ts";
import type { StepExecutor } from "../ports/step-executor.ts";
import type { RunJob, WorkQueue } from "../ports/work-queue.ts";
import { setNewest } from "../core/bounded-map.ts";
import { findActive, findWaiting, type RunRef } from "./find-run.ts";
import type { Logger } from "./logger.ts";
import { RunClaim } from "./run-claim.ts";
import { runCommand, type CommandEffect } from "./run-command.ts";
import type { SopCatalog } from "./sop-catalog.ts";
import { SopError } from "./sop-error.ts";

export type { RunRef } from "./find-run.ts";

export interface EngineDeps {
  store: RunStore;
  queue: WorkQueue;
  events: EventBus;
  executor: StepExecutor;
  catalog: SopCatalog;
  log: Logger;
  now: () => number;
  newId: () => string;
  admins: readonly string[];
  /** The bot's environment: where `[secrets]` values and the commands' base environment come from. */
  env: Readonly<Record<string, string | undefined>>;
  /** A private (0700) folder where $SOP_OUTPUT files live while a command runs. */
  tmpDir: string;
  /** The run's audit record as it stands (redacted); sealed as the final record when the run ends. */
  recordOf: (stored: StoredRun) => AuditRecord;
  /**
   * Told of every change this engine makes, with the run as written (and, when it ended, its
   * sealed record), before anyone hears of it (the audit files); resolves once the run's file
   * holds the change. A run's end is announced only after that: whoever hears `run_finished`
   * finds the final record on disk. For an end it waits through failed writes (a full disk) until
   * one lands, and rejects only when the process gives up waiting as it closes: the end then goes
   * untold here.
   */
  changed: (stored: StoredRun, sealed?: AuditRecord) => Promise<void>;
  /** This process, as run claims name it. */
  owner: string;
  /** How long a claim on a run lasts without renewal. */
  claimTtlMs: number;
  machine: MachineIdentity;
  /** Stops what a dead worker left running (when it is on this machine); says what became of it. */
  stopOrphan: (process: CommandProcess) => Promise<string>;
}

/**
 * Who acts, as an adapter knows them. Groups (`slack-group:S…`, `discord-role:…`) are known up
 * front (`groups`: a Discord member's roles, an API token's) or looked up only when a rule names
 * one (`memberOf`: Slack's user groups cost an API call each); the engine alone decides which
 * groups matter for what is asked (SOP_ADMINS, the approvers of what waits).
 */
export interface ActorRef {
  id: string;
  groups?: readonly string[];
  /** Whether the actor is in `group`; asked only for groups a rule names. May throw when it cannot tell. */
  memberOf?: (group: string) => Promise<boolean>;
}

export interface ExecuteOptions {
  vars?: Record<string, VarValue>;
  skipApproval?: boolean;
  /** Start inside the cooldown; admins only, recorded. */
  force?: boolean;
  actor: ActorRef;
  trigger?: TriggerInfo;
  /** Told the new run's id before it is admitted, so that a caller hears every event of it. */
  watch?: (runId: string) => void;
}

export interface DecideOptions {
  actor: ActorRef;
  decision: "approve" | "deny";
  comment?: string;
  checkpoint?: string;
  definitionHash?: string;
}

/** What one sweep found and set moving again. */
export interface SweepReport {
  /** Running runs nobody holds (their worker died, or their nudge was lost). */
  unclaimed: string[];
  /** Queued runs with a free slot. */
  startable: string[];
  /** Timers armed again: overdue deadlines, or (a queue that lost them with its process) all of them. */
  timers: number;
}

interface Step {
  stored: StoredRun;
  result: OrderedResult;
  /**
   * A driver's change only (`Driving`): what became of its claim. Absent when nothing was
   * written (nothing to do, or no slot): the claim is as it was.
   */
  claim?: "held" | "released" | "refused";
}

/** A change made by whoever drives the run: it carries the driver's claim (`ClaimWrite`). */
interface Driving {
  /** The claim held; undefined when this change is to take it. */
  claim: RunClaim | undefined;
  /** Inputs applied in memory only so far, written in this change before its own input. */
  carried?: readonly TimedInput[];
}

const jobId = (...parts: string[]): string => parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_");
/** Past a claim's end, the nudge that takes an abandoned run over waits this much longer. */
const CLAIM_GRACE_MS = 250;
/** Runs going on whose state as this process last wrote it is kept for the next nudge here. */
const RECENT_WRITES = 1024;

export class RunEngine {
  private readonly running = new Map<string, AbortController>();
  /** Ends waiting for their final record on disk before they are announced. */
  private readonly telling = new Set<Promise<void>>();
  /**
   * Per SOP, its chain head as this process last saw it (its own seals, or the head a refused
   * seal came back with): a run's end seals from it without asking the store first. A stale one
   * costs a refused compare-and-set that brings the head as it is.
   */
  private readonly heads = new Map<string, ChainHead>();
  /**
   * Per SOP, the end being sealed here: this process's ends of one SOP take their turn, so they
   * never refuse each other's seals (each would cost a round trip); other processes' may.
   */
  private readonly sealing = new Map<string, Promise<unknown>>();
  private readonly serials = new Map<string, Promise<void>>();
  /**
   * Per run going on, the run as this process last wrote it (admitted, or changed): the nudge that
   * follows, when it comes here, drives from it instead of reading it back. Like any read made
   * without the claim it may be stale by the time it is used; the compare-and-set refuses a
   * change made from a stale one, and the run is read then.
   */
  private readonly written = new Map<string, StoredRun>();
  private readonly unsubscribe: () => void;
  /** Closing: finish the commands that run, start no other. */
  private stopping = false;

  constructor(private readonly deps: EngineDeps) {
    // A cancel or timeout may be decided by another process; whoever runs the command hears it.
    // (Should the event be lost, the claim's renewal finds the run ended.)
    this.unsubscribe = deps.events.subscribe((event) => {
      if (event.type === "run_finished" && (event.status === "cancelled" || event.status === "timed_out")) {
        this.running.get(event.runId)?.abort();
      }
    });
  }

  /**
   * Start no further command: a run whose command ends now is left "running" with its next step
   * due, which a worker carries on (this process's next start, another worker, a sweep).
   */
  quiesce(): void {
    this.stopping = true;
  }

  stop(): void {
    this.quiesce();
    this.unsubscribe();
  }

  /**
   * The actor with the groups that matter here: those of SOP_ADMINS and of `named` (the approvers
   * a rule reads), asked of `memberOf` only for the ones not already known.
   */
  async resolveActor(ref: ActorRef, named: readonly string[] = []): Promise<Actor> {
    const known = new Set(ref.groups ?? []);
    const ask = [...new Set([...this.deps.admins, ...named])].filter((g) => g !== ref.id && !known.has(g));
    const { memberOf } = ref;
    if (memberOf) {
      const found = await Promise.all(ask.map(async (g) => ((await memberOf(g)) ? g : undefined)));
      for (const g of found) if (g !== undefined) known.add(g);
    }
    const groups = [...known];
    const admin = this.deps.admins.includes(ref.id) || groups.some((g) => this.deps.admins.includes(g));
    return { id: ref.id, groups, admin };
  }

  /** The run as admitted, with the definition it pinned. */
  async execute(name: string, opts: ExecuteOptions): Promise<StoredRun> {
    const { catalog, store, now } = this.deps;
    const loaded = catalog.get(name);
    if (!loaded) {
      const known = catalog.list().map((s) => s.definition.name).join(", ") || "none";
      throw new SopError("unknown_sop", `unknown SOP "${name}" (known: ${known})`);
    }
    // Only an admin may skip approvals or force a cooldown: nobody else's groups are looked up.
    const actor = opts.skipApproval || opts.force ? await this.resolveActor(opts.actor) : { id: opts.actor.id, groups: [], admin: false };
    if (opts.skipApproval && !actor.admin) {
      throw new SopError("not_allowed", `not allowed: only admins (SOP_ADMINS) may skip approvals; ${actor.id} is not one`);
    }
    const def = loaded.definition;
    const at = now();
    const inCooldown = (await store.cooldownRemaining(name, def.cooldownSecs, at)) > 0;
    if (opts.force && inCooldown && !actor.admin) {
      throw new SopError("not_allowed", `not allowed: only admins may start ${name} during its cooldown`);
    }
    const id = this.deps.newId();
    opts.watch?.(id);
    const run = newRun(def, {
      id,
      definitionHash: loaded.hash,
      trigger: opts.trigger ?? { type: "manual" },
      requestedBy: actor.id,
      vars: opts.vars ?? {},
      now: at,
      ...(opts.skipApproval ? { bypassedBy: actor.id } : {}),
      ...(opts.force && inCooldown ? { cooldownForcedBy: actor.id } : {}),
    });
    const stored: StoredRun = { run, definition: def, dir: loaded.dir };
    const admission = await store.admit(
      stored,
      { cooldownSecs: def.cooldownSecs, force: Boolean(opts.force && actor.admin), now: at },
    );
    if (!admission.accepted) {
      throw new SopError("cooldown", `${name} is cooling down: ${admission.retryAfterSecs} s left (cooldown_secs = ${def.cooldownSecs}); an admin may start it anyway: sop run ${name} --force, "force": true in the API, or "Start anyway" on the web`, {
        retryAfterSecs: admission.retryAfterSecs,
      });
    }
    setNewest(this.written, run.id, stored, RECENT_WRITES);
    await this.nudge(run);
    const { trigger, requestedBy, cooldownForcedBy } = run;
    await this.deps.events.publish({
      type: "run_queued", runId: run.id, sop: name, at, requestedBy, trigger: trigger.type,
      ...(trigger.source ? { source: trigger.source } : {}), ...(cooldownForcedBy ? { cooldownForcedBy } : {}),
    });
    return stored;
  }

  /** Approve or deny (Done / Failed for manual steps) the run a reference names. */
  async decide(ref: RunRef, opts: DecideOptions): Promise<{ message: string; run: RunState }> {
    const target = await findWaiting(this.deps, ref);
    const actor = await this.resolveActor(opts.actor, target.checkpoints.filter((c) => c.status === "pending").flatMap((c) => c.approvers));
    const input: RunInput = { type: "decide", actor, decision: opts.decision };
    if (opts.comment !== undefined) input.comment = opts.comment;
    // For the gate the person saw waiting (named, or pending at this read), whose approvers the
    // groups were looked up for: a run that moved on to another gate meanwhile refuses it as
    // decided, never decides a gate the person did not see.
    const checkpoint = opts.checkpoint ?? target.checkpoints.find((c) => c.status === "pending")?.id;
    if (checkpoint !== undefined) input.checkpoint = checkpoint;
    if (opts.definitionHash !== undefined) input.definitionHash = opts.definitionHash;
    const { stored, result } = await this.transition(target.id, input);
    const { outcome } = result;
    if (outcome === undefined) throw new Error(`the state machine gave no outcome for a decision on run ${target.id}`);
    if (!outcome.ok) throw new SopError(outcome.code, outcome.message);
    return { message: outcome.message, run: stored.run };
  }

  /** Cancel by run id, by the SOP's one active run, or by both (the run must then be that SOP's). */
  async cancel(ref: string | RunRef, actorRef: ActorRef, reason?: string): Promise<{ message: string; run: RunState }> {
    const target = await findActive(this.deps, ref);
    const stored = await this.deps.store.get(target.id);
    if (!stored) throw new SopError("unknown_run", `unknown run ${target.id}`);
    const actor = await this.resolveActor(actorRef, stored.definition.approval.approvers);
    const allowed = actor.admin || actor.id === target.requestedBy || mayDecide(actor, stored.definition.approval.approvers);
    if (!allowed) throw new SopError("not_allowed", `not allowed: ${actor.id} may not cancel run ${target.id} (only its requester, approvers and admins)`);
    const input: RunInput = { type: "cancel", actor };
    if (reason !== undefined) input.reason = reason;
    const { stored: after, result } = await this.transition(target.id, input);
    if (!result.outcome?.ok) throw new SopError("finished", result.outcome?.message ?? `run ${target.id} already ended`);
    return { message: result.outcome.message, run: after.run };
  }

  /** A queue job: move the run on, running its commands here until it waits or ends. */
  async handle(job: RunJob): Promise<void> {
    if (job.kind === "timeout") {
      // Not behind the run's drive, which may be running a command here for hours: like a cancel,
      // the deadline is a compare-and-set of its own, and its kill reaches the command through
      // `running`. Only the drive that follows (an approval timed out and approved) waits its turn.
      const { stored, result } = await this.transition(job.runId, { type: "timeout", checkpoint: job.checkpoint });
      if (!result.changed) await this.armEarly(stored, job.checkpoint);
      if (!result.changed || isTerminal(stored.run.status)) return;
    }
    await this.serially(job.runId, () => this.drive(job.runId));
  }

  /**
   * Finds what no message will move any more and moves it (DESIGN invariant 8): running runs
   * nobody holds (their worker died, or the nudge after a decision was lost) and queued runs
   * with a free slot. With `timers`, also arms again the deadlines of every run that waits or
   * runs, for a queue that lost them with its process. Idempotent: nudges are deduplicated, and
   * a run that needs nothing ignores one.
   */
  async sweep(opts: { timers?: boolean } = {}): Promise<SweepReport> {
    const { store, now } = this.deps;
    const report: SweepReport = { unclaimed: [], startable: [], timers: 0 };
    const going = await store.list({ statuses: opts.timers ? OPEN_STATUSES : ["queued", "running"] });
    const running = going.filter((r) => r.status === "running");
    const claims = await store.claims(running.map((r) => r.id));
    const at = now();
    for (const run of running) {
      const claim = claims.get(run.id);
      if (claim !== undefined && claim.until > at) continue;
      report.unclaimed.push(run.id);
      await this.nudge(run);
    }
    for (const sop of new Set(going.filter((r) => r.status === "queued").map((r) => r.sop))) {
      for (const id of await store.startable(sop)) {
        report.startable.push(id);
        await this.nudgeById(id);
      }
    }
    // Deadlines whose timer was lost (a crash between a change and its timer, a job that failed)
    // are due again; with `timers`, every deadline of every run going on.
    const timed = opts.timers ? going.map((r) => r.id) : await store.overdue(at);
    for (const id of new Set(timed)) {
      const stored = await store.get(id);
      if (!stored) continue;
      const timers = pendingTimers(stored.definition, stored.run).filter((t) => opts.timers || t.at <= at);
      report.timers += timers.length;
      await this.armTimers(stored.run, timers.map((t) => ({ type: "schedule_timeout", ...t })));
    }
    if (report.unclaimed.length > 0) this.deps.log.info({ runs: report.unclaimed }, `sweep: ${report.unclaimed.length} running run(s) had nobody moving them; handed to a worker`);
    return report;
  }

  /**
   * A timer that fired before its deadline by this clock (timers may fire a millisecond early;
   * another worker's clock may be behind) found nothing to do: arm it again for what is left.
   */
  private async armEarly(stored: StoredRun, checkpoint: string): Promise<void> {
    const now = this.deps.now();
    const due = pendingTimers(stored.definition, stored.run).find((t) => t.checkpoint === checkpoint && t.at > now);
    if (!due) return;
    await this.enqueue(
      { kind: "timeout", runId: stored.run.id, checkpoint },
      { priority: stored.run.priority, delayMs: due.at - now + 1, id: jobId(stored.run.id, "timeout", checkpoint, String(due.at), "after", String(now)) },
    );
  }

  /**
   * Drive the run while holding its claim: recover what a dead worker left, start it when a slot
   * is free, and run its commands until it waits for a person or ends.
   *
   * A run with no command on record as running is driven from a read made without the claim (or
   * from the run as this process last wrote it: stale or not, the compare-and-set judges): its
   * first change carries the claim (`ClaimWrite`), so it lands only if nobody else holds the run,
   * and takes the claim with it, or gives it up in the same step when nothing is left to run (a
   * no-op run: one write, no separate claim and unclaim). Nothing before that write acts on the
   * world but timers, which find nothing to do if it does not land.
   */
  private async drive(runId: string): Promise<void> {
    const known = this.written.get(runId);
    this.written.delete(runId);
    const read = known ?? (await this.deps.store.get(runId));
    if (!read || isTerminal(read.run.status)) return;
    // A command on record as running may still run under another process's claim: whether it is
    // orphaned is judged only from a read made under the claim.
    if (hasRunningCommand(read.run)) return this.driveClaimed(runId);
    const first = await this.transition(runId, await this.firstInput(read), read, { claim: undefined });
    if (first.claim === "refused") return this.retakeLater(runId);
    if (first.claim === undefined) {
      // Nothing written. The run had moved on since the read (another change): what to do is
      // decided again, under the claim, from the run as it is now.
      if (first.stored.run.revision !== read.run.revision && !isTerminal(first.stored.run.status)) await this.driveClaimed(runId);
      return;
    }
    if (first.claim === "released") return;
    const claim = RunClaim.taken(this.claimDeps(), runId);
    try {
      await this.carryOn(runId, first, claim);
    } finally {
      await claim.release();
    }
  }

  /** Drive the run after taking its claim on its own, then reading it. */
  private async driveClaimed(runId: string): Promise<void> {
    // Read alongside the claim (one round trip's wait, not two); used only once the claim is ours,
    // and awaited inside the try below, so a failed read still gives the claim up.
    const reading = this.deps.store.get(runId);
    reading.catch(() => undefined);
    const claim = await RunClaim.take(this.claimDeps(), runId);
    if (!claim) {
      await this.retakeLater(runId);
      return;
    }
    try {
      const read = await reading;
      // Read before the claim was ours: what counts as orphaned is judged only from a read made
      // under the claim.
      const stored = read && hasRunningCommand(read.run) ? await this.deps.store.get(runId) : read;
      if (!stored || isTerminal(stored.run.status)) return;
      // Each change starts from the run as this process last wrote it (or just read it): the
      // compare-and-set refuses it if anyone changed the run since, and it is read again then.
      let step = await this.transition(runId, await this.firstInput(stored), stored, { claim });
      // The run had moved on before the claim was ours (its previous holder's last change): what
      // to do is decided again from the run as it is now.
      if (!step.result.changed && step.claim === undefined && step.stored.run.revision !== stored.run.revision && !isTerminal(step.stored.run.status)) {
        step = await this.transition(runId, await this.firstInput(step.stored), step.stored, { claim });
      }
      await this.carryOn(runId, step, claim);
    } finally {
      await claim.release();
    }
  }

  /** Runs the commands the run's changes call for, one after another, while the claim holds. */
  private async carryOn(runId: string, first: Step, claim: RunClaim): Promise<void> {
    let step = first;
    let command = step.result.changed ? commandOf(step.result) : undefined;
    // A command's end that another command follows at once is not written on its own: it goes with
    // that command's start (one durable write per step, not two), and the next launcher is spawned
    // meanwhile. What the next command sees (its variables) is the run with the end applied.
    let carried: TimedInput[] = [];
    while (command && this.startsMore(claim)) {
      // The run the command sees: with something carried, the one the step ahead was read from.
      const ran = await this.runOne(step.stored, command, claim, carried, step.result.run);
      // Lost meanwhile: the process that took the run over has recovered (or will recover) the step.
      if (ran === undefined) return;
      carried = [...ran.carried, { input: ran.finished, at: this.deps.now() }];
      const ahead = applyInOrder(ran.stored.definition, ran.stored.run, carried);
      const next = ahead.changed ? commandOf(ahead) : undefined;
      // Checked again after the command: the loop's own check must never find something carried.
      if (next && this.startsMore(claim)) {
        step = { stored: ran.stored, result: ahead };
        command = next;
        continue;
      }
      // Carries the claim: refused (changing nothing) if another process took the run over meanwhile.
      const last = carried.pop();
      if (last === undefined) return;
      step = await this.transition(runId, last.input, ran.stored, { claim, carried });
      carried = [];
      command = step.result.changed ? commandOf(step.result) : undefined;
    }
  }

  /** Whether a driver holding `claim` starts another command: not once the claim or the process is going. */
  private startsMore(claim: RunClaim): boolean {
    return claim.held && !this.stopping;
  }

  /** What a driver that just took the claim applies first: recover orphans, start, or move on. */
  private async firstInput(stored: StoredRun): Promise<RunInput> {
    // We hold the claim and run nothing of this run: a command still marked running is orphaned.
    if (hasRunningCommand(stored.run)) return { type: "recover", fates: await this.stopOrphans(stored.run) };
    return stored.run.status === "queued" ? { type: "start" } : { type: "advance" };
  }

  /**
   * Run one command; undefined when its result must not be applied: the claim was lost (the
   * process that took the run over recovers the step), or its start could not be recorded (then
   * it never began, and whoever drives the run next runs it). `carried` is written with the
   * command's start; when the command never got a process it is handed back, still to write.
   */
  private async runOne(
    stored: StoredRun, effect: CommandEffect, claim: RunClaim, carried: readonly TimedInput[], current: RunState,
  ): Promise<{ finished: Extract<RunInput, { type: "command_finished" }>; stored: StoredRun; carried: readonly TimedInput[] } | undefined> {
    const controller = new AbortController();
    const { run } = stored;
    this.running.set(run.id, controller);
    const stopWhenLost = claim.onLost(() => controller.abort());
    // A cancel whose event this process missed: the renewal reads the run and stops the command.
    const watch = setInterval(() => void this.stopIfEnded(run.id, controller), Math.max(1, Math.floor(this.deps.claimTtlMs / 3)));
    watch.unref();
    // A command that never got a process (a missing secret, a bad workdir) has a result all the same.
    // Widened by hand: the callback below sets it, which the compiler's narrowing does not see.
    let recorded = true as boolean;
    // The run as its start was written: what the command's end is applied to.
    let latest = stored;
    let unwritten = carried;
    try {
      const finished = await runCommand(this.deps, { ...stored, run: current }, effect, controller.signal, async (process) => {
        // Recorded with the claim renewed in the same step: the command runs only if it is still ours.
        const started = await this.recordStart(stored, effect, process, claim, carried);
        unwritten = [];
        if (started) latest = started;
        recorded = started !== undefined;
        return recorded;
      });
      return recorded && claim.held ? { finished, stored: latest, carried: unwritten } : undefined;
    } finally {
      clearInterval(watch);
      stopWhenLost();
      this.running.delete(run.id);
    }
  }

  private async stopIfEnded(runId: string, controller: AbortController): Promise<void> {
    const stored = await this.deps.store.get(runId).catch(() => undefined);
    if (stored && isTerminal(stored.run.status)) controller.abort();
  }

  /**
   * The run once where the command runs is on record, with what was carried (a command runs only
   * then); undefined when it could not be. What was carried is written even then, when it can
   * be: a step that ended is never left looking interrupted because the next could not start.
   */
  private async recordStart(
    stored: StoredRun, effect: CommandEffect, process: CommandProcess, claim: RunClaim, carried: readonly TimedInput[],
  ): Promise<StoredRun | undefined> {
    const runId = stored.run.id;
    const input: RunInput = { type: "command_started", target: effect.target, commandIndex: effect.commandIndex, attempt: effect.attempt, process };
    try {
      const step = await this.transition(runId, input, stored, { claim, carried });
      return step.result.lastChanged && step.claim === "held" ? step.stored : undefined;
    } catch (err) {
      this.deps.log.warn({ runId, err }, `could not record where the command of run ${runId} would run, so it does not run now; a worker runs it later`);
      const last = carried.at(-1);
      if (last !== undefined) {
        await this.transition(runId, last.input, stored, { claim, carried: carried.slice(0, -1) }).catch((e: unknown) => {
          this.deps.log.warn({ runId, err: e }, `could not record how the last command of run ${runId} ended; a worker recovers it`);
        });
      }
      return undefined;
    }
  }

  /** What became of each command a dead worker left running (stopped here, or maybe still running elsewhere). */
  private async stopOrphans(run: RunState): Promise<Record<string, string>> {
    const fates: Record<string, string> = {};
    const orphans = [
      ...run.steps.filter((s) => s.status === "running").map((s) => ({ key: targetKey({ kind: "step", step: s.number }), process: s.process })),
      ...run.verifications.filter((v) => v.status === "running").map((v) => ({ key: targetKey({ kind: "gate", gate: v.gate }), process: v.process })),
    ];
    for (const { key, process } of orphans) {
      fates[key] = process === undefined ? "its process was not on record: it had not begun, or its start could not be recorded" : await this.deps.stopOrphan(process);
    }
    if (orphans.length > 0) this.deps.log.warn({ runId: run.id, fates }, `run ${run.id}: recovering what a stopped worker left running`);
    return fates;
  }

  /** Another process holds the run: look again once its claim would have lapsed, in case it died. */
  private async retakeLater(runId: string): Promise<void> {
    const claim = (await this.deps.store.claims([runId])).get(runId);
    const stored = claim && (await this.deps.store.get(runId));
    if (!claim || !stored || isTerminal(stored.run.status)) return;
    const delayMs = Math.max(0, claim.until - this.deps.now()) + CLAIM_GRACE_MS;
    await this.enqueue({ kind: "advance", runId }, { priority: stored.run.priority, delayMs, id: jobId(runId, "claim", String(claim.until)) });
  }

  /**
   * Apply one input with compare-and-set, retrying when another writer got there first. The
   * change and what it implies land in one atomic step of the store; the effects follow. `known`
   * is the run as this process last wrote or read it, which saves reading it again: a stale one
   * is refused by the compare-and-set (or changes nothing), and the run is read then.
   */
  private async transition(runId: string, input: RunInput, known?: StoredRun, driving?: Driving): Promise<Step> {
    const { store, now } = this.deps;
    let stored = known;
    let fresh = false;
    // Only lost compare-and-sets on the run count: a moved chain head means another run was sealed.
    for (let conflicts = 0; conflicts < 50;) {
      if (stored === undefined) {
        stored = await store.get(runId);
        if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
        fresh = true;
      }
      const result = applyInOrder(stored.definition, stored.run, [...(driving?.carried ?? []), { input, at: now() }]);
      if (!result.changed) {
        if (fresh) return { stored, result };
        // Nothing to do by what this process knew: the store may know better.
        stored = undefined;
        continue;
      }
      const next = { ...result.run, revision: stored.run.revision + 1 };
      // Timers go first: one armed for a change that then does not land finds nothing to time out.
      await this.armTimers(next, result.effects);
      const ends = isTerminal(next.status) && !isTerminal(stored.run.status);
      const before = stored;
      // A driver keeps its claim while a command is to run (or runs: a recorded start); otherwise
      // the change gives it up, as does a closing process, which starts no further command.
      const claimWrite: ClaimWrite | undefined = driving && {
        owner: this.deps.owner,
        ttlMs: this.deps.claimTtlMs,
        now: now(),
        release: input.type !== "command_started" && (this.stopping || commandOf(result) === undefined),
      };
      const send = (ending: RunEnding | undefined) => store.update(runId, before.run.revision, next, ending, claimWrite);
      const write = async () => {
        const ending = ends ? await this.ending(before, next) : undefined;
        const outcome = await (driving?.claim && claimWrite ? driving.claim.writing(() => send(ending), claimWrite.now) : send(ending));
        // Within the turn, so that the next end of the SOP here seals from where this one left the chain.
        if (ending && outcome.ok) this.heads.set(next.sop, { seq: ending.seal.seq, hash: ending.seal.hash, runId });
        if (!outcome.ok && outcome.why === "chain") this.heads.set(next.sop, outcome.head);
        return { ending, outcome };
      };
      const { ending, outcome } = ends ? await this.inTurn(next.sop, write) : await write();
      if (!outcome.ok) {
        // No slot for it yet: it stays queued, and the run that frees one nudges it.
        if (outcome.why === "no_slot") return { stored, result: unchangedResult(stored.run) };
        // Another process drives the run: this change is not ours to make.
        if (outcome.why === "claimed") {
          driving?.claim?.refused();
          return { stored, result: unchangedResult(stored.run), claim: "refused" };
        }
        // The run itself was as read (the store checks the revision first): seal again from the head as it is.
        if (outcome.why === "chain") continue;
        conflicts++;
        stored = undefined;
        continue;
      }
      const updated: StoredRun = { ...stored, run: next, ...(ending ? { seal: ending.seal } : {}) };
      if (isTerminal(next.status)) this.written.delete(runId);
      else setNewest(this.written, runId, updated, RECENT_WRITES);
      // A write failure is the audit sink's to retry and report. An end waits for its final record,
      // which rejects only when the process gives up waiting (closing): the end is then not told.
      const written = this.deps.changed(updated, ending?.record);
      if (!ending) written.catch(() => undefined);
      if (claimWrite?.release) driving?.claim?.givenUp();
      await this.perform(updated, result, outcome.startable, ending ? written : undefined);
      return { stored: updated, result, ...(claimWrite ? { claim: claimWrite.release ? "released" : "held" } : {}) };
    }
    throw new Error(`run ${runId} kept changing under us; gave up after 50 attempts`);
  }

  /** Runs `fn` after the SOP's earlier turns here have ended. */
  private async inTurn<T>(sop: string, fn: () => Promise<T>): Promise<T> {
    const before = this.sealing.get(sop) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const settled = mine.catch(() => undefined);
    this.sealing.set(sop, settled);
    try {
      return await mine;
    } finally {
      if (this.sealing.get(sop) === settled) this.sealing.delete(sop);
    }
  }

  /** The seal of the ending run's record, one past the chain head as this process last saw it. */
  private async ending(stored: StoredRun, next: RunState): Promise<RunEnding> {
    const head = this.heads.get(next.sop) ?? (await this.deps.store.chainHead(next.sop));
    const record = this.deps.recordOf({ ...stored, run: next });
    const sealed = sealRecord(record as unknown as Record<string, unknown>, { seq: head.seq + 1, prevHash: head.hash });
    return { seal: { seq: sealed.seq, prevHash: head.hash, hash: sealed.hash }, record: sealed as unknown as AuditRecord };
  }

  /**
   * After the change landed: stop what it stopped, nudge what may move on, then tell everyone.
   * An end is told once `written` (its final record on disk) resolves: whoever hears `run_finished`
   * finds the file final. That wait is not the worker's: it goes on meanwhile, and `idle()` waits
   * for what is still to be told.
   */
  private async perform(stored: StoredRun, result: EventResult, startable: string[], written?: Promise<void>): Promise<void> {
    const { run } = stored;
    for (const effect of result.effects) if (effect.type === "kill_command") this.running.get(run.id)?.abort();
    for (const id of startable) await this.nudgeById(id);
    // Going on with nothing running and no command to start (a decision let it go on), or with its
    // next command due in a process that is closing and starts none: a worker moves it now, not
    // at the next sweep.
    const handedOver = this.stopping && commandOf(result) !== undefined;
    if (run.status === "running" && (handedOver || (!hasRunningCommand(run) && !commandOf(result)))) await this.nudge(run);
    // Last, so that whoever hears of the change finds everything it implies done. Published
    // together (in order), so a bus may carry them in one message.
    const tell = async (): Promise<void> => {
      await Promise.all(result.effects.flatMap((effect) => (effect.type === "emit" ? [this.deps.events.publish(effect.event)] : [])));
    };
    if (written === undefined) return tell();
    const told = written.then(tell).catch((err: unknown) => {
      this.deps.log.error({ runId: run.id, err }, `could not announce the end of run ${run.id}; the store has it`);
    }).finally(() => this.telling.delete(told));
    this.telling.add(told);
  }

  /** Until every end this engine made is announced (a closing process waits for it). */
  async idle(): Promise<void> {
    while (this.telling.size > 0) await Promise.all([...this.telling]);
  }

  private async armTimers(run: RunState, effects: Effect[]): Promise<void> {
    const now = this.deps.now();
    for (const effect of effects) {
      if (effect.type !== "schedule_timeout") continue;
      // The deadline is part of the id: a run timed again (a later start) gets a job of its own.
      // One already due gets an id of its own too: its first job may wait on another clock.
      const id = jobId(run.id, "timeout", effect.checkpoint, String(effect.at), ...(effect.at <= now ? ["due"] : []));
      await this.enqueue({ kind: "timeout", runId: run.id, checkpoint: effect.checkpoint }, { priority: run.priority, delayMs: Math.max(0, effect.at - now), id });
    }
  }

  private async nudgeById(runId: string): Promise<void> {
    const stored = await this.deps.store.get(runId);
    if (stored) await this.nudge(stored.run);
  }

  private async nudge(run: RunState): Promise<void> {
    await this.enqueue({ kind: "advance", runId: run.id }, { priority: run.priority, id: jobId(run.id, "advance", String(run.revision)) });
  }

  /** A nudge that cannot be queued (a closing process) is not lost for good: every worker's sweep finds the run. */
  private async enqueue(job: RunJob, opts: Parameters<WorkQueue["enqueue"]>[1]): Promise<void> {
    try {
      await this.deps.queue.enqueue(job, opts);
    } catch (err) {
      this.deps.log.debug({ runId: job.runId, err }, `could not queue ${job.kind} of run ${job.runId}; a worker's sweep will find the run`);
    }
  }

  private claimDeps() {
    const { store, owner, claimTtlMs: ttlMs, now, log } = this.deps;
    return { store, owner, ttlMs, now, log };
  }

  private async serially(runId: string, fn: () => Promise<void>): Promise<void> {
    const before = this.serials.get(runId) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const settled = mine.catch(() => undefined);
    this.serials.set(runId, settled);
    try {
      await mine;
    } finally {
      if (this.serials.get(runId) === settled) this.serials.delete(runId);
    }
  }

  /** The run a decision is for: by id, or the one run of the SOP that waits for people. */
  findWaiting(ref: RunRef): Promise<RunState> {
    return findWaiting(this.deps, ref);
  }
}

function hasRunningCommand(run: RunState): boolean {
  return run.steps.some((s) => s.status === "running") || run.verifications.some((v) => v.status === "running");
}

function unchangedResult(run: RunState): OrderedResult {
  return { run, effects: [], changed: false, lastChanged: false };
}

function commandOf(result: EventResult): CommandEffect | undefined {
  return result.effects.find((e): e is CommandEffect => e.type === "run_command");
}
