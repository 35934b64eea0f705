/**
 * What every trigger gets, and the one way an automatic trigger starts a run: logged, counted,
 * and never thrown — a refused firing (cooldown, max_concurrent) is news, not a crash.
 */
import { fireTrigger as fire, type Firing, type FiringOutcome } from "../../app/fire-trigger.ts";
import type { Logger } from "../../app/logger.ts";
import type { SopRunner } from "../../app/sop-runner.ts";
import type { MetricsSink } from "../../http/metrics.ts";


export interface TriggerContext {
  runner: SopRunner;
  metrics: MetricsSink;
  log: Logger;
}

/** Fire, then log and count what happened; never throws. */
export async function fireTrigger(ctx: TriggerContext, f: Firing): Promise<FiringOutcome | undefined> {
  const where = { sop: f.sop, trigger: f.type, source: f.source };
  try {
    const outcome = await fire(ctx.runner, f);
    if ("refused" in outcome) refuse(ctx, f, outcome.refused);
    else {
      ctx.metrics.triggerFired(f.type, f.sop, "started");
      ctx.log.info({ ...where, runId: outcome.started.run_id }, `${f.type} trigger started ${f.sop} (run ${outcome.started.run_id})`);
    }
    return outcome;
  } catch (err) {
    ctx.log.error({ ...where, err: String(err) }, `${f.type} trigger of ${f.sop} failed`);
    return undefined;
  }
}

function refuse(ctx: TriggerContext, f: Firing, err: { code: string; message: string }): void {
  ctx.metrics.triggerFired(f.type, f.sop, "refused");
  ctx.metrics.runRefused(f.sop, err.code, f.type);
  ctx.log.warn({ sop: f.sop, trigger: f.type, source: f.source, reason: err.code }, `${f.type} trigger of ${f.sop} refused: ${err.message}`);
}
