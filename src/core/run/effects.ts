/** What the state machine asks the shell to do. The shell performs effects idempotently. */
import type { RunState, RunStatus, StepState, StepStatus } from "./run-state.ts";

export type CommandTarget = { kind: "step"; step: number } | { kind: "gate"; gate: string };

export type Effect =
  | {
      type: "run_command";
      target: CommandTarget;
      command: string;
      commandIndex: number;
      attempt: number;
      timeoutMs: number;
    }
  /** Kill the run's running command (cancel, run timeout). */
  | { type: "kill_command" }
  /** Deliver a `timeout` event for this checkpoint (or the whole run) at `at`. */
  | { type: "schedule_timeout"; checkpoint: string; at: number }
  | { type: "emit"; event: RunEvent }
  /** The run ended: free its slot, seal its audit record. */
  | { type: "finished" };

interface EventBase {
  runId: string;
  sop: string;
  at: number;
}

/** About an approval (or gate) or a manual step; `step` when it belongs to one. */
interface CheckpointEvent extends EventBase {
  checkpoint: string;
  step?: number;
}

/**
 * What happened to a run, as the bus tells it: each kind with the fields it always has. An
 * accepted run and an ended one also carry what a log line says of them, so that every process
 * hearing them need not read the run (absent from a process of an earlier version).
 */
export type RunEvent =
  | (EventBase & { type: "run_queued"; requestedBy?: string; trigger?: string; source?: string; cooldownForcedBy?: string })
  | (EventBase & { type: "run_started" })
  | (EventBase & { type: "step_started"; step: number })
  /**
   * A decision that ends a step (a manual step marked, a denial) also says which checkpoint and
   * who. `startedAt`: when the step began, if it did, so that a listener times it without reading
   * the run (absent from a process of an earlier version).
   */
  | (EventBase & { type: "step_finished"; step: number; status: StepStatus; startedAt?: number; checkpoint?: string; by?: string })
  /** `notified`: a gate that only announces (approval not required). */
  | (CheckpointEvent & { type: "approval_requested"; status?: "notified" })
  | (CheckpointEvent & { type: "manual_requested" })
  /**
   * `partial`: an approval counted toward a quorum; `by` is absent when time decided. A person's
   * decision that settles the checkpoint carries when it was asked (`requestedAt`), as the wait is
   * timed from it.
   */
  | (CheckpointEvent & { type: "approval_decided" | "manual_done"; status: "approved" | "denied" | "partial" | "bypassed" | "timed_out"; by?: string; requestedAt?: number })
  /** Somebody's decision refused (not an approver, self-approval …): what they tried. */
  | (CheckpointEvent & { type: "approval_refused"; status: "approve" | "deny"; by: string })
  /** `queuedAt` is always there (but from a process of an earlier version); `startedAt` when the run started. */
  | (EventBase & { type: "run_finished"; status: RunStatus; queuedAt?: number; startedAt?: number; endReason?: string });

export type RunEventType = RunEvent["type"];

/** The `step_finished` event of a step whose status was just set; `more` says which decision ended it. */
export function stepFinished(run: RunState, state: StepState, at: number, more: { checkpoint?: string; by?: string } = {}): Effect {
  const startedAt = state.startedAt === undefined ? {} : { startedAt: state.startedAt };
  return { type: "emit", event: { type: "step_finished", runId: run.id, sop: run.sop, at, step: state.number, status: state.status, ...startedAt, ...more } };
}

/** The run-wide timeout's checkpoint name in `schedule_timeout`. */
export const RUN_TIMEOUT = "run-timeout";
