/** Drive the pure state machine by hand: commands succeed unless told otherwise. */
import { applyEvent, type CommandResultEvent, type EventResult, type RunInput } from "../../src/core/run/apply-event.ts";
import type { Actor } from "../../src/core/run/decide.ts";
import type { Effect } from "../../src/core/run/effects.ts";
import { newRun } from "../../src/core/run/new-run.ts";
import type { RunState } from "../../src/core/run/run-state.ts";
import type { SopDefinition, VarValue } from "../../src/core/sop/types.ts";

export const alice: Actor = { id: "slack:UALICE", groups: [], admin: false };
export const bob: Actor = { id: "slack:UBOB", groups: ["slack-group:SOPS"], admin: false };
export const carol: Actor = { id: "discord:3", groups: [], admin: false };
export const admin: Actor = { id: "api:root", groups: [], admin: true };

type CommandEffect = Extract<Effect, { type: "run_command" }>;

export class Play {
  run: RunState;
  now = 1_000_000;
  effects: Effect[] = [];
  last!: EventResult;

  constructor(readonly def: SopDefinition, opts: { vars?: Record<string, VarValue>; requestedBy?: string; bypassedBy?: string } = {}) {
    this.run = newRun(def, {
      id: "run-1", definitionHash: "h1", trigger: { type: "manual" }, requestedBy: opts.requestedBy ?? alice.id,
      vars: opts.vars ?? {}, now: this.now, ...(opts.bypassedBy ? { bypassedBy: opts.bypassedBy } : {}),
    });
  }

  apply(input: RunInput, advance = true): EventResult {
    this.now += 1000;
    this.last = applyEvent(this.def, this.run, input, this.now);
    this.run = this.last.run;
    this.effects.push(...this.last.effects);
    if (advance && (input.type === "decide" || input.type === "timeout") && this.last.changed) {
      const outcome = this.last;
      this.apply({ type: "advance" }, false);
      this.last = { ...this.last, ...(outcome.outcome ? { outcome: outcome.outcome } : {}) };
    }
    return this.last;
  }

  pendingCommand(): CommandEffect | undefined {
    return [...this.effects].reverse().find((e): e is CommandEffect => e.type === "run_command");
  }

  /** Finish the pending command with this result (default: success). */
  finish(result: Partial<CommandResultEvent> = {}, outputVars: Record<string, VarValue> = {}): EventResult {
    const cmd = this.pendingCommand();
    if (!cmd) throw new Error(`no command is pending (run is ${this.run.status})`);
    return this.apply({
      type: "command_finished", target: cmd.target, commandIndex: cmd.commandIndex, attempt: cmd.attempt, outputVars,
      result: { exitCode: 0, output: "ok\n", timedOut: false, cancelled: false, durationMs: 5, ...result },
    });
  }

  /** The pending command's process started, on `host` (what a worker records before the command runs). */
  started(host = "worker-a"): EventResult {
    const cmd = this.pendingCommand();
    if (!cmd) throw new Error(`no command is pending (run is ${this.run.status})`);
    return this.apply({
      type: "command_started", target: cmd.target, commandIndex: cmd.commandIndex, attempt: cmd.attempt,
      process: { host, machine: `boot-of-${host}`, pgid: 4321, startTicks: "99", commandIndex: cmd.commandIndex, attempt: cmd.attempt },
    });
  }

  /** Let every command succeed until the run waits for a person or ends. */
  runToRest(): this {
    if (this.run.status === "queued") this.apply({ type: "start" });
    while (this.run.steps.some((s) => s.status === "running") || this.run.verifications.some((v) => v.status === "running")) this.finish();
    return this;
  }

  approve(actor: Actor = bob, checkpoint?: string): EventResult {
    return this.apply({ type: "decide", actor, decision: "approve", ...(checkpoint ? { checkpoint } : {}) });
  }

  deny(actor: Actor = bob, comment = "no"): EventResult {
    return this.apply({ type: "decide", actor, decision: "deny", comment });
  }

  statuses(): string[] {
    return this.run.steps.map((s) => s.status);
  }

  events(): string[] {
    return this.effects.flatMap((e) => {
      if (e.type !== "emit") return [];
      const { type, step, status } = e.event as { type: string; step?: number; status?: string };
      return [`${type}${step ? `:${step}` : ""}${status ? `=${status}` : ""}`];
    });
  }
}
