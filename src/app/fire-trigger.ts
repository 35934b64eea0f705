/**
 * An automatic trigger firing (schedule, file_watch): the one way such a trigger starts a run,
 * for node-cron and chokidar in `sop serve` and for a BullMQ schedule tick in any worker. A
 * refused firing (cooldown, max_concurrent) is news, not a crash: returned, never thrown.
 * Logging and counting starts and refusals is the runner's admissions' business
 * (`SopRunner.onAdmission`), as for every other start; only the unexpected is logged here.
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { TriggerInfo } from "../core/run/run-state.ts";
import type { VarValue } from "../core/sop/types.ts";
import type { Logger } from "./logger.ts";
import { SopError } from "./sop-error.ts";
import type { SopRunner } from "./sop-runner.ts";

export interface Firing {
  sop: string;
  type: Exclude<TriggerInfo["type"], "manual" | "command">;
  source: string;
  vars?: Record<string, VarValue>;
  /** Refuse when the SOP's `max_concurrent` runs are all going, rather than queue behind them. */
  refuseWhenBusy?: boolean;
}

export type FiringOutcome = { started: AuditRecord } | { refused: SopError };

/** Starts the run, or says why not; undefined (logged) when something unexpected failed. */
export async function fireTrigger(runner: SopRunner, f: Firing, log: Logger): Promise<FiringOutcome | undefined> {
  const where = { sop: f.sop, trigger: f.type, source: f.source };
  try {
    const started = await runner.execute(f.sop, {
      trigger: { type: f.type, source: f.source }, actor: `trigger:${f.type}`, wait: false,
      ...(f.vars ? { vars: f.vars } : {}), ...(f.refuseWhenBusy ? { refuseWhenBusy: true } : {}),
    });
    return { started };
  } catch (err) {
    if (err instanceof SopError) return { refused: err };
    log.error({ ...where, err }, `${f.type} trigger of ${f.sop} failed`);
    return undefined;
  }
}
