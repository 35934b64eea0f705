/** What the state machine asks the shell to do. The shell performs effects idempotently. */
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

export type RunEventType =
  | "run_queued" | "run_started" | "step_started" | "step_finished"
  | "approval_requested" | "approval_decided" | "manual_requested" | "manual_done"
  | "approval_refused" | "run_finished";

export interface RunEvent {
  type: RunEventType;
  runId: string;
  sop: string;
  at: number;
  step?: number;
  checkpoint?: string;
  /** Status of the step, decision of the checkpoint, or final status of the run. */
  status?: string;
  /** Who decided, for decisions and refusals. */
  by?: string;
}

/** The run-wide timeout's checkpoint name in `schedule_timeout`. */
export const RUN_TIMEOUT = "run-timeout";
