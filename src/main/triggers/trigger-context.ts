/**
 * What every trigger gets, and the one way an automatic trigger starts a run: logged, counted,
 * and never thrown — a refused firing (cooldown, max_concurrent) is news, not a crash.
 */
import type { Logger } from "../../app/logger.ts";
import { SopError } from "../../app/sop-error.ts";
import type { SopRunner } from "../../app/sop-runner.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { TriggerInfo } from "../../core/run/run-state.ts";
import type { VarValue } from "../../core/sop/types.ts";
import type { MetricsSink } from "../../http/metrics.ts";

export interface TriggerContext {
  runner: SopRunner;
  metrics: MetricsSink;
  log: Logger;
}

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

const BUSY = ["queued", "running", "awaiting_approval", "awaiting_manual"] as const;

export async function fireTrigger(ctx: TriggerContext, f: Firing): Promise<FiringOutcome | undefined> {
  const { runner, metrics, log } = ctx;
  const where = { sop: f.sop, trigger: f.type, source: f.source };
  try {
    const def = runner.catalog.get(f.sop)?.definition;
    if (f.refuseWhenBusy && def) {
      const busy = await runner.store.list({ sop: f.sop, statuses: BUSY });
      if (busy.length >= def.maxConcurrent) {
        const refusal = new BusyRefusal(`${f.sop} already has ${busy.length} run${busy.length === 1 ? "" : "s"} going (max_concurrent = ${def.maxConcurrent}): ${busy.map((r) => `${r.id} ${r.status}`).join(", ")}`);
        refuse(ctx, f, refusal);
        return { refused: refusal };
      }
    }
    const record = await runner.execute(f.sop, {
      trigger: { type: f.type, source: f.source }, actor: `trigger:${f.type}`, wait: false, ...(f.vars ? { vars: f.vars } : {}),
    });
    metrics.triggerFired(f.type, f.sop, "started");
    log.info({ ...where, runId: record.run_id }, `${f.type} trigger started ${f.sop} (run ${record.run_id})`);
    return { started: record };
  } catch (err) {
    if (err instanceof SopError) {
      refuse(ctx, f, err);
      return { refused: err };
    }
    log.error({ ...where, err: String(err) }, `${f.type} trigger of ${f.sop} failed`);
    return undefined;
  }
}

function refuse(ctx: TriggerContext, f: Firing, err: { code: string; message: string }): void {
  ctx.metrics.triggerFired(f.type, f.sop, "refused");
  ctx.metrics.runRefused(f.sop, err.code, f.type);
  ctx.log.warn({ sop: f.sop, trigger: f.type, source: f.source, reason: err.code }, `${f.type} trigger of ${f.sop} refused: ${err.message}`);
}
