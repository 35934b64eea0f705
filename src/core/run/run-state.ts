/**
 * The state of one run: plain data that the store keeps. The state machine (advance.ts,
 * apply-event.ts) is the only code that changes it.
 */
import type { Priority, ExecutionMode, VarValue } from "../sop/types.ts";

export const RUN_STATUSES = [
  "queued", "running", "awaiting_approval", "awaiting_manual",
  "success", "failed", "denied", "cancelled", "timed_out",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
// The groups of statuses every layer asks about, named once.
/** Ended: nothing more happens to the run. */
export const TERMINAL_STATUSES = ["success", "failed", "denied", "cancelled", "timed_out"] as const satisfies readonly RunStatus[];
/** Waiting for people: an approval (or a gate) or a manual step. */
export const WAITING_STATUSES = ["awaiting_approval", "awaiting_manual"] as const satisfies readonly RunStatus[];
/** Holding a `max_concurrent` slot: started and not ended. */
export const ACTIVE_STATUSES = ["running", ...WAITING_STATUSES] as const satisfies readonly RunStatus[];
/** Not ended: queued, running or waiting; what a person may still cancel. */
export const OPEN_STATUSES = ["queued", ...ACTIVE_STATUSES] as const satisfies readonly RunStatus[];

// A string too: an audit record read over HTTP carries its status as text.
const among = (group: readonly RunStatus[]) => (s: string): boolean => (group as readonly string[]).includes(s);
export const isTerminal = among(TERMINAL_STATUSES);
export const isWaiting = among(WAITING_STATUSES);
export const isActive = among(ACTIVE_STATUSES);
/** Ended or waiting for people: a caller waiting on the run may go. */
export const isAtRest = (s: string): boolean => isTerminal(s) || isWaiting(s);

/**
 * A queued run waits for people too when no run of its SOP is running and some wait for a
 * person: those hold its slots, and nothing but a decision (or a cancel) will let it start.
 */
export const queuedBehindPeople = (sopRuns: { running: number; waiting: number }): boolean => sopRuns.running === 0 && sopRuns.waiting > 0;

/**
 * Where a command runs, recorded as it starts: a recovery on the same machine stops what a dead
 * worker left running, and one elsewhere says that it may still run.
 */
export interface CommandProcess {
  host: string;
  /** Boot id and PID namespace: a process group id means something only there. */
  machine: string;
  /** The command's process group (its shell is the leader). */
  pgid: number;
  /** The leader's start time (clock ticks since boot), so a reused group id is never signalled. */
  startTicks?: string;
  commandIndex: number;
  attempt: number;
}

export type StepStatus =
  | "pending" | "running" | "awaiting_approval" | "awaiting_manual"
  | "success" | "failed" | "skipped" | "cancelled" | "bypassed";

export interface StepState {
  number: number;
  title: string;
  slug: string;
  status: StepStatus;
  /** Why it was skipped, why it failed, why it waits: the words a person reads. */
  reason?: string;
  startedAt?: number;
  completedAt?: number;
  exitCode?: number | null;
  output: string;
  /** Index of the command being run (a step's fenced blocks run one after another). */
  commandIndex: number;
  /** 0 for the first try; each retry adds one. */
  attempt: number;
  /** The running command's process, once started. */
  process?: CommandProcess;
}

/**
 * A point where the run waits for people: an approval (`step:N`, `gate:<name>`, `run`) or a
 * manual step (`manual:N`). Its id is what buttons and commands bind to.
 */
export interface Checkpoint {
  id: string;
  kind: "approval" | "manual";
  /** The step it belongs to (the step it precedes for approvals), if any. */
  step?: number;
  /** `notified`: an approval gate with `required = false`, announced but not waited for. */
  status: "pending" | "approved" | "denied" | "bypassed" | "timed_out" | "cancelled" | "notified";
  /** Why this approval is asked: "requires_approval", "step_by_step mode", "gate pre_patch" … */
  reason: string;
  requestedAt: number;
  decidedAt?: number;
  /** Deadline in epoch ms, when the policy has a timeout. */
  deadline?: number;
  approvers: string[];
  minApprovals: number;
  allowSelfApproval: boolean;
  onTimeout: "deny" | "approve";
  /** Distinct identities that approved (or bypassed, or denied). */
  by: string[];
  /** When a deny ended a checkpoint that some had approved already: who they were. */
  approvedBy?: string[];
  /** Every approver's comment (a deny's reason too), in the order given. */
  comments?: Comment[];
  /** The automatic decision's explanation (on_timeout = "approve"); runs stored before `comments` keep theirs here. */
  comment?: string;
  refused: RefusedAttempt[];
  /** Approval gates with `required = false` notify and pass at once. */
  required: boolean;
}

export interface Comment {
  by: string;
  at: number;
  text: string;
}

export interface RefusedAttempt {
  by: string;
  at: number;
  decision: "approve" | "deny";
  reason: string;
}

export interface VerificationState {
  gate: string;
  status: "running" | "success" | "failed" | "skipped" | "cancelled";
  startedAt?: number;
  completedAt?: number;
  exitCode?: number | null;
  output: string;
  attempt: number;
  process?: CommandProcess;
}

export interface TriggerInfo {
  type: "manual" | "command" | "file_watch" | "schedule";
  /** Where it came from: `slack:C0DEPLOYS`, `cli`, `api`, a file path … */
  source?: string;
  text?: string;
}

export interface RunState {
  id: string;
  sop: string;
  version: string;
  /** Content hash of the definition the run pinned at acceptance. */
  definitionHash: string;
  priority: Priority;
  executionMode: ExecutionMode;
  status: RunStatus;
  trigger: TriggerInfo;
  requestedBy: string;
  /** Variables given at start (defaults, trigger captures, execute-time vars). */
  inputVars: Record<string, VarValue>;
  /** Variables set by steps through $SOP_OUTPUT, in order. */
  outputVars: Record<string, VarValue>;
  queuedAt: number;
  startedAt?: number;
  /** When the whole run times out (`timeout_secs` after its start), if the SOP sets one. */
  timeoutAt?: number;
  completedAt?: number;
  steps: StepState[];
  checkpoints: Checkpoint[];
  verifications: VerificationState[];
  /** Set when an admin started the run with every approval bypassed. */
  bypassedBy?: string;
  /** Set when an admin forced the run past its cooldown. */
  cooldownForcedBy?: string;
  /** Why the run ended, in words (denied by …, cancelled by …, timed out after …). */
  endReason?: string;
  /** Bumped by every change; the store's compare-and-set guard. */
  revision: number;
}

/** Gate ids as buttons, commands and the audit name them. */
export const checkpointId = {
  step: (n: number) => `step:${n}`,
  manual: (n: number) => `manual:${n}`,
  gate: (name: string) => `gate:${name}`,
  run: "run",
} as const;
