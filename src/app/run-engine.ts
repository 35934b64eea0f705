/**
 * The shell around the pure state machine: loads a run from the store, applies an input,
 * stores the result by compare-and-set, and performs the effects. Commands run only in
 * `handle` (a worker), one run at a time per process.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { applyEvent, type RunInput, type EventResult } from "../core/run/apply-event.ts";
import { mayDecide, type Actor } from "../core/run/decide.ts";
import type { Effect } from "../core/run/effects.ts";
import { newRun } from "../core/run/new-run.ts";
import { isActive, isTerminal, type RunState, type TriggerInfo } from "../core/run/run-state.ts";
import { builtinVariables, userVariables } from "../core/run/run-variables.ts";
import type { VarValue } from "../core/sop/types.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { RunStore, StoredRun } from "../ports/run-store.ts";
import type { StepExecutor } from "../ports/step-executor.ts";
import type { Job, WorkQueue } from "../ports/work-queue.ts";
import type { AuditSink } from "./audit-sink.ts";
import { baseEnv, commandEnv, readOutputVars } from "./command-env.ts";
import type { Logger } from "./logger.ts";
import type { SopCatalog } from "./sop-catalog.ts";
import { SopError } from "./sop-error.ts";

export interface EngineDeps {
  store: RunStore;
  queue: WorkQueue;
  events: EventBus;
  executor: StepExecutor;
  catalog: SopCatalog;
  audit: AuditSink;
  log: Logger;
  now: () => number;
  newId: () => string;
  admins: readonly string[];
  /** The bot's environment: where `[secrets]` values and the commands' base environment come from. */
  env: Readonly<Record<string, string | undefined>>;
  /** A private (0700) folder where $SOP_OUTPUT files live while a command runs. */
  tmpDir: string;
}

export interface ActorRef {
  id: string;
  groups?: string[];
}

export interface ExecuteOptions {
  vars?: Record<string, VarValue>;
  skipApproval?: boolean;
  /** Start inside the cooldown; admins only, recorded. */
  force?: boolean;
  actor: ActorRef;
  trigger?: TriggerInfo;
}

export interface RunRef {
  sop?: string;
  runId?: string;
}

export interface DecideOptions {
  actor: ActorRef;
  decision: "approve" | "deny";
  comment?: string;
  checkpoint?: string;
  definitionHash?: string;
}

type CommandEffect = Extract<Effect, { type: "run_command" }>;

const jobId = (...parts: string[]): string => parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_");

export class RunEngine {
  private readonly running = new Map<string, AbortController>();
  private readonly serials = new Map<string, Promise<void>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: EngineDeps) {
    // A cancel or timeout may be decided by another process; whoever runs the command hears it.
    this.unsubscribe = deps.events.subscribe((event) => {
      if (event.type === "run_finished" && (event.status === "cancelled" || event.status === "timed_out")) {
        this.running.get(event.runId)?.abort();
      }
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  resolveActor(ref: ActorRef): Actor {
    const groups = ref.groups ?? [];
    const admin = this.deps.admins.includes(ref.id) || groups.some((g) => this.deps.admins.includes(g));
    return { id: ref.id, groups, admin };
  }

  async execute(name: string, opts: ExecuteOptions): Promise<RunState> {
    const { catalog, store, now } = this.deps;
    const loaded = catalog.get(name);
    if (!loaded) {
      const known = catalog.list().map((s) => s.definition.name).join(", ") || "none";
      throw new SopError("unknown_sop", `unknown SOP "${name}" (known: ${known})`);
    }
    const actor = this.resolveActor(opts.actor);
    if (opts.skipApproval && !actor.admin) {
      throw new SopError("not_allowed", `not allowed: only admins (SOP_ADMINS) may skip approvals; ${actor.id} is not one`);
    }
    const def = loaded.definition;
    const at = now();
    const inCooldown = (await store.cooldownRemaining(name, def.cooldownSecs, at)) > 0;
    if (opts.force && inCooldown && !actor.admin) {
      throw new SopError("not_allowed", `not allowed: only admins may start ${name} during its cooldown`);
    }
    const run = newRun(def, {
      id: this.deps.newId(),
      definitionHash: loaded.hash,
      trigger: opts.trigger ?? { type: "manual" },
      requestedBy: actor.id,
      vars: opts.vars ?? {},
      now: at,
      ...(opts.skipApproval ? { bypassedBy: actor.id } : {}),
      ...(opts.force && inCooldown ? { cooldownForcedBy: actor.id } : {}),
    });
    const admission = await store.admit(
      { run, definition: def, dir: loaded.dir, holdsSlot: false },
      { cooldownSecs: def.cooldownSecs, force: Boolean(opts.force && actor.admin), now: at },
    );
    if (!admission.accepted) {
      throw new SopError("cooldown", `${name} is cooling down: ${admission.retryAfterSecs} s left (cooldown_secs = ${def.cooldownSecs})`, {
        retryAfterSecs: admission.retryAfterSecs,
      });
    }
    await this.deps.events.publish({ type: "run_queued", runId: run.id, sop: name, at });
    await this.nudge(run);
    return run;
  }

  /** Approve or deny (Done / Failed for manual steps) the run a reference names. */
  async decide(ref: RunRef, opts: DecideOptions): Promise<{ message: string; run: RunState }> {
    const target = await this.findWaiting(ref);
    const actor = this.resolveActor(opts.actor);
    const input: RunInput = { type: "decide", actor, decision: opts.decision };
    if (opts.comment !== undefined) input.comment = opts.comment;
    if (opts.checkpoint !== undefined) input.checkpoint = opts.checkpoint;
    if (opts.definitionHash !== undefined) input.definitionHash = opts.definitionHash;
    const { stored, result } = await this.transition(target.id, input);
    const outcome = result.outcome!;
    if (result.changed && !isTerminal(stored.run.status)) await this.nudge(stored.run);
    if (!outcome.ok) throw new SopError(outcome.code, outcome.message);
    return { message: outcome.message, run: stored.run };
  }

  /** Cancel by run id, by the SOP's one active run, or by both (the run must then be that SOP's). */
  async cancel(ref: string | RunRef, actorRef: ActorRef, reason?: string): Promise<{ message: string; run: RunState }> {
    const target = await this.findActive(ref);
    const actor = this.resolveActor(actorRef);
    const stored = (await this.deps.store.get(target.id))!;
    const allowed = actor.admin || actor.id === target.requestedBy || mayDecide(actor, stored.definition.approval.approvers);
    if (!allowed) throw new SopError("not_allowed", `not allowed: ${actor.id} may not cancel run ${target.id} (only its requester, approvers and admins)`);
    const input: RunInput = { type: "cancel", actor };
    if (reason !== undefined) input.reason = reason;
    const { stored: after, result } = await this.transition(target.id, input);
    if (!result.outcome?.ok) throw new SopError("finished", result.outcome?.message ?? `run ${target.id} already ended`);
    return { message: result.outcome.message, run: after.run };
  }

  /** A queue job: move the run on, running its commands here until it waits or ends. */
  async handle(job: Job): Promise<void> {
    await this.serially(job.runId, async () => {
      if (job.redelivered && !this.running.has(job.runId) && (await this.hasRunningCommand(job.runId))) {
        // The worker that held this job died; whatever it was running is orphaned.
        await this.drive(job.runId, { type: "recover" });
        return;
      }
      if (job.kind === "timeout") {
        const { stored, result } = await this.transition(job.runId, { type: "timeout", checkpoint: job.checkpoint ?? "" });
        if (!result.changed || isTerminal(stored.run.status)) return;
      }
      await this.drive(job.runId, undefined);
    });
  }

  /**
   * After a crash of the only process (local driver): what it left running is marked
   * interrupted (or retried), timers re-armed. With Redis other workers may be running those
   * commands right now; there, a job redelivered after its worker died does this per run.
   */
  async recoverAll(): Promise<number> {
    const runs = await this.deps.store.list();
    let recovered = 0;
    for (const run of runs) {
      if (isTerminal(run.status)) continue;
      recovered++;
      if (run.status === "queued") await this.nudge(run);
      else void this.serially(run.id, () => this.drive(run.id, { type: "recover" })).catch((err: unknown) => this.deps.log.error({ runId: run.id, err: String(err) }, "recovery failed"));
    }
    return recovered;
  }

  private async hasRunningCommand(runId: string): Promise<boolean> {
    const stored = await this.deps.store.get(runId);
    return Boolean(stored && (stored.run.steps.some((s) => s.status === "running") || stored.run.verifications.some((v) => v.status === "running")));
  }

  private async drive(runId: string, first: RunInput | undefined): Promise<void> {
    const stored = await this.deps.store.get(runId);
    if (!stored || isTerminal(stored.run.status)) return;
    let input = first;
    if (!input) {
      if (stored.run.status === "queued") {
        if (!(await this.deps.store.tryStart(runId, stored.definition.maxConcurrent))) return;
        input = { type: "start" };
      } else {
        input = { type: "advance" };
      }
    }
    let step = await this.transition(runId, input);
    let command = step.result.changed ? commandOf(step.result) : undefined;
    while (command) {
      const finished = await this.runCommand(step.stored, command);
      step = await this.transition(runId, finished);
      command = step.result.changed ? commandOf(step.result) : undefined;
    }
  }

  private async runCommand(stored: StoredRun, effect: CommandEffect): Promise<RunInput> {
    const { run, definition: def } = stored;
    const controller = new AbortController();
    this.running.set(run.id, controller);
    const stepNumber = effect.target.kind === "step" ? effect.target.step : undefined;
    const outputFile = join(this.deps.tmpDir, `sop-output-${run.id}-${randomBytes(6).toString("hex")}`);
    const base = { type: "command_finished" as const, target: effect.target, commandIndex: effect.commandIndex, attempt: effect.attempt };
    try {
      const secrets: Record<string, string> = {};
      for (const name of def.secrets) {
        const value = this.deps.env[name];
        if (value === undefined) {
          const error = `secret ${name} is not set in the bot's environment ([secrets] of ${def.name})`;
          return { ...base, result: { exitCode: null, output: "", timedOut: false, cancelled: false, durationMs: 0, error }, outputVars: {} };
        }
        secrets[name] = value;
      }
      const result = await this.deps.executor.run({
        command: effect.command,
        cwd: resolve(stored.dir, def.workdir),
        env: commandEnv({
          base: baseEnv(this.deps.env), secrets,
          vars: { ...userVariables(run), ...builtinVariables(run, stepNumber) },
          sop: run.sop, runId: run.id, step: stepNumber !== undefined ? String(stepNumber) : effect.target.kind === "gate" ? effect.target.gate : "",
          outputFile,
        }),
        timeoutMs: effect.timeoutMs,
        redact: Object.values(secrets),
        signal: controller.signal,
      });
      const outputVars = await readOutputVars(outputFile);
      const event = { exitCode: result.exitCode, output: result.output, timedOut: result.timedOut, cancelled: result.cancelled, durationMs: result.durationMs };
      return { ...base, result: result.spawnError !== undefined ? { ...event, error: result.spawnError } : event, outputVars };
    } finally {
      this.running.delete(run.id);
      await rm(outputFile, { force: true });
    }
  }

  /** Apply one input with compare-and-set, retrying when another writer got there first. */
  private async transition(runId: string, input: RunInput): Promise<{ stored: StoredRun; result: EventResult }> {
    const { store, now } = this.deps;
    for (let attempt = 0; attempt < 50; attempt++) {
      const stored = await store.get(runId);
      if (!stored) throw new SopError("unknown_run", `unknown run ${runId}`);
      const result = applyEvent(stored.definition, stored.run, input, now());
      if (!result.changed) return { stored, result };
      const next = { ...result.run, revision: stored.run.revision + 1 };
      if (!(await store.update(runId, stored.run.revision, next))) continue;
      const updated = { ...stored, run: next };
      // The audit write is under way before anyone hears of the change, so a listener that
      // then reads the record (after AuditSink.drain) sees it on disk.
      void this.deps.audit.update(runId);
      await this.perform(updated, result.effects);
      return { stored: updated, result };
    }
    throw new Error(`run ${runId} kept changing under us; gave up after 50 attempts`);
  }

  private async perform(stored: StoredRun, effects: Effect[]): Promise<void> {
    const { run } = stored;
    for (const effect of effects) {
      switch (effect.type) {
        case "emit":
          await this.deps.events.publish(effect.event);
          break;
        case "schedule_timeout":
          await this.deps.queue.enqueue(
            { kind: "timeout", runId: run.id, checkpoint: effect.checkpoint },
            { priority: run.priority, delayMs: Math.max(0, effect.at - this.deps.now()), id: jobId(run.id, "timeout", effect.checkpoint) },
          );
          break;
        case "kill_command":
          this.running.get(run.id)?.abort();
          break;
        case "finished":
          await this.release(stored);
          break;
        case "run_command":
          break; // run by drive(), in a worker
      }
    }
  }

  /** Free the slot and nudge the runs that may start now: queued runs whose own job found no room. */
  private async release(stored: StoredRun): Promise<void> {
    const line = await this.deps.store.release(stored.run.id, stored.definition.maxConcurrent);
    for (const id of line) {
      const next = await this.deps.store.get(id);
      if (next) await this.nudge(next.run);
    }
  }

  private async nudge(run: RunState): Promise<void> {
    await this.deps.queue.enqueue({ kind: "advance", runId: run.id }, { priority: run.priority, id: jobId(run.id, "advance", String(run.revision)) });
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
  async findWaiting(ref: RunRef): Promise<RunState> {
    if (ref.runId) return this.runOf(ref.runId, ref.sop);
    const sop = ref.sop ?? "";
    const waiting = await this.deps.store.list({ sop, statuses: ["awaiting_approval", "awaiting_manual"] });
    if (waiting.length === 1) return waiting[0]!;
    if (waiting.length > 1) {
      throw new SopError("ambiguous", `${waiting.length} runs of ${sop} are waiting; name one: ${waiting.map((r) => r.id).join(", ")}`, {
        runs: waiting.map((r) => ({ id: r.id, status: r.status, waiting: r.checkpoints.find((c) => c.status === "pending")?.id ?? "" })),
      });
    }
    if (!this.deps.catalog.get(sop) && (await this.deps.store.list({ sop })).length === 0) {
      throw new SopError("unknown_sop", `unknown SOP "${sop}"`);
    }
    throw new SopError("nothing_waiting", `no run of ${sop} is waiting for a decision`);
  }

  /** The run with this id, which must belong to `sop` when one is named. */
  private async runOf(runId: string, sop: string | undefined): Promise<RunState> {
    const stored = await this.deps.store.get(runId);
    if (!stored || (sop && stored.run.sop !== sop)) throw new SopError("unknown_run", `unknown run ${runId}${sop ? ` of ${sop}` : ""}`);
    return stored.run;
  }

  /** A run id, or the one active or queued run of an SOP. */
  private async findActive(target: string | RunRef): Promise<RunState> {
    if (typeof target !== "string" && target.runId !== undefined) return this.runOf(target.runId, target.sop);
    const ref = typeof target === "string" ? target : (target.sop ?? "");
    const byId = await this.deps.store.get(ref);
    if (byId) return byId.run;
    const runs = (await this.deps.store.list({ sop: ref })).filter((r) => isActive(r.status) || r.status === "queued");
    if (runs.length === 1) return runs[0]!;
    if (runs.length > 1) {
      throw new SopError("ambiguous", `${runs.length} runs of ${ref} are active; name one: ${runs.map((r) => r.id).join(", ")}`, {
        runs: runs.map((r) => ({ id: r.id, status: r.status })),
      });
    }
    if (!this.deps.catalog.get(ref)) throw new SopError("unknown_run", `no run or SOP named "${ref}"`);
    throw new SopError("nothing_waiting", `no active run of ${ref}`);
  }
}

function commandOf(result: EventResult): CommandEffect | undefined {
  return result.effects.find((e): e is CommandEffect => e.type === "run_command");
}
