/**
 * What the `sop` commands ask of sop-runner, whether it runs in this process (local-sop-client.ts,
 * over a SopRunner) or behind a running `sop serve` (http-sop-client.ts, over its API). Each
 * command is written once against this interface, so both ways print the same and exit the same.
 * Types only: importing it loads nothing.
 */
import type { SopMetrics } from "../app/sop-status.ts";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { Plan } from "../core/plan/plan-run.ts";
import type { Trigger, VarValue } from "../core/sop/types.ts";

/** An SOP as `sop list` shows it. */
export interface SopListing {
  name: string; description: string; version: string; priority: string; execution_mode: string;
  cooldown_secs: number; max_concurrent: number; triggers: Trigger[]; steps: number;
}

/** `sop status NAME`: the API's shape, so the text and the JSON are the same whichever answered. */
export interface SopStatusView {
  sop: string;
  active: { id: string; status: string }[];
  queued: { id: string }[];
  last: { id: string; status: string } | null;
  cooldown_remaining_secs: number;
  metrics: SopMetrics;
}

export type StatusAnswer =
  /** `interrupted`: runs shown running that no process runs (in-process, DATA_DIR held by nobody). */
  | { kind: "run"; record: AuditRecord; interrupted: string[] }
  | { kind: "sop"; status: SopStatusView; interrupted: string[] };

export interface PlanAnswer {
  version: string; priority: string; execution_mode: string;
  plan: Plan;
}

export type TriggerOutcome =
  | { sop: string; record: AuditRecord }
  | { sop: string; refusal: Refusal };

/** Which runs a decision is about: an SOP's waiting run, or one run. */
export interface DecisionTarget { sop?: string; runId?: string }

export interface SopClient {
  /** Where it works, for messages: the SOP folder, or the server's address. */
  readonly where: string;
  /** `broken`: the errors, as `file:line:col: message`, of SOPs that did not load. */
  list(): Promise<{ sops: SopListing[]; broken: string[] }>;
  plan(name: string, vars: Record<string, VarValue>): Promise<PlanAnswer>;
  status(ref: string): Promise<StatusAnswer>;
  /** Start a run; answers once it is accepted (then `follow` it). */
  execute(name: string, opts: { vars: Record<string, VarValue>; approveAll: boolean; force: boolean }): Promise<AuditRecord>;
  /** Approve (Done) or deny (Failed); answers once the decision is recorded (then `follow` the run). */
  decide(decision: "approve" | "deny", target: DecisionTarget, opts: { checkpoint?: string; text?: string }): Promise<{ message: string; record: AuditRecord }>;
  cancel(ref: string): Promise<{ message: string; record: AuditRecord }>;
  /** Feed a command trigger; each match as its accepted run, or why it was refused. */
  trigger(text: string): Promise<TriggerOutcome[]>;
  /**
   * The run's record each time it changes, until it ends or waits for a person (a queued run
   * whose SOP's slots are all held by runs that wait for people waits too); answers the record
   * then, with every audit write done.
   */
  follow(runId: string, onUpdate: (record: AuditRecord) => void): Promise<AuditRecord>;
}

export interface RefusalBody {
  runs?: { id: string; status: string; waiting?: string }[];
  retry_after_secs?: number;
}

/**
 * What sop-runner refused (cooldown, unknown SOP, nothing waiting, not allowed …), with its code
 * and, where it helps, the waiting runs or the seconds left. `exit` is SPEC §5.2's: 4 refused,
 * 2 a malformed request, 1 a server that could not be reached or failed.
 */
export class Refusal extends Error {
  override name = "Refusal";
  constructor(readonly code: string, message: string, readonly body: RefusalBody = {}, readonly exit: 1 | 2 | 4 = 4) {
    super(message);
  }
}

