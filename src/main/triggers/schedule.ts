/**
 * `schedule` triggers with node-cron (5 or 6 fields, optional IANA timezone). A firing while the
 * SOP's runs still fill its `max_concurrent` slots is refused, like one in cooldown: logged and
 * counted, never thrown, and never queued behind the running one.
 */
import { schedule as cronSchedule, type Logger as CronLogger } from "node-cron";
import type { ArmedTrigger } from "./file-watch.ts";
import type { TriggerContext } from "./trigger-context.ts";

export function armSchedule(ctx: TriggerContext, sop: string, trigger: { cron: string; timezone?: string }): ArmedTrigger {
  const where = { sop, cron: trigger.cron, ...(trigger.timezone ? { timezone: trigger.timezone } : {}) };
  const logger: CronLogger = {
    info: (m) => ctx.log.debug(where, `node-cron: ${m}`),
    warn: (m) => ctx.log.warn(where, `node-cron: ${m}`),
    error: (m) => ctx.log.error(where, `node-cron: ${String(m)}`),
    debug: (m) => ctx.log.debug(where, `node-cron: ${String(m)}`),
  };
  const task = cronSchedule(trigger.cron, async () => {
    await ctx.runner.fire({ sop, type: "schedule", source: trigger.cron, refuseWhenBusy: true });
  }, { name: `${sop} ${trigger.cron}`, logger, ...(trigger.timezone ? { timezone: trigger.timezone } : {}) });
  return {
    async close() {
      await task.destroy();
    },
  };
}
