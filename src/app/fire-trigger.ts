/**
 * An automatic trigger firing (file_watch, schedule): the one way such a trigger starts a run.
 * Shared by `sop serve` (node-cron, chokidar) and by any worker taking a BullMQ schedule tick.
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { OPEN_STATUSES, type TriggerInfo } from "../core/run/run-state.ts";
import type { VarValue } from "../core/sop/types.ts";
import { SopError } from "./sop-error.ts";
import type { SopRunner } from "./sop-runner.ts";

export interface Firing {
  sop: string;
  type: Exclude<TriggerInfo["type"], "manual" | "command">;
  source: string;
  vars?: Record<string, VarValue>;
  /**
   * Refuse when the SOP already has `max_concurrent` runs queued or active, rather than queue
   * another behind them: a schedule that fires again while its last run still goes must not
   * pile up runs.
   */
  refuseWhenBusy?: boolean;
}

export type FiringOutcome = { started: AuditRecord } | { refused: SopError | BusyRefusal };

/** A refusal of the trigger itself, not of the engine: the SOP has no free slot. */
export class BusyRefusal {
  readonly code = "max_concurrent";
  constructor(readonly message: string) {}
}


/** Starts the run, or says why not; only unexpected failures throw. */
export async function fireTrigger(runner: SopRunner, f: Firing): Promise<FiringOutcome> {
  try {
    const def = runner.catalog.get(f.sop)?.definition;
    if (f.refuseWhenBusy && def) {
      const busy = await runner.store.list({ sop: f.sop, statuses: OPEN_STATUSES });
      if (busy.length >= def.maxConcurrent) {
        return { refused: new BusyRefusal(`${f.sop} already has ${busy.length} run${busy.length === 1 ? "" : "s"} going (max_concurrent = ${def.maxConcurrent}): ${busy.map((r) => `${r.id} ${r.status}`).join(", ")}`) };
      }
    }
    const record = await runner.execute(f.sop, {
      trigger: { type: f.type, source: f.source }, actor: `trigger:${f.type}`, wait: false, ...(f.vars ? { vars: f.vars } : {}),
    });
    return { started: record };
  } catch (err) {
    if (err instanceof SopError) return { refused: err };
    throw err;
  }
}
