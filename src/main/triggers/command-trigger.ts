/**
 * Command triggers (SPEC §2.1): text that matches an SOP's pattern starts it with the captures.
 * The HTTP API calls this so every refusal is logged and answered to the caller with the reason
 * (cooldown seconds left, not allowed …); the runner's admissions count them.
 */
import type { ActorRef } from "../../app/run-engine.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { TriggerContext } from "./trigger-context.ts";

export type CommandTriggerResult =
  | { sop: string; status: "started"; run: AuditRecord }
  | { sop: string; status: "refused"; code: string; error: string; retry_after_secs?: number };

export async function fireCommandTrigger(
  ctx: TriggerContext, text: string, opts: { actor: string | ActorRef; source: string },
): Promise<CommandTriggerResult[]> {
  const results = await ctx.runner.trigger(text, { actor: opts.actor, source: opts.source, wait: false });
  const actor = typeof opts.actor === "string" ? opts.actor : opts.actor.id;
  return results.map((r): CommandTriggerResult => {
    if (r.record) {
      ctx.log.info({ sop: r.sop, runId: r.record.run_id, actor, source: opts.source }, `command trigger started ${r.sop} (run ${r.record.run_id})`);
      return { sop: r.sop, status: "started", run: r.record };
    }
    const code = r.error?.code ?? "refused";
    const error = r.error?.message ?? "refused";
    ctx.log.warn({ sop: r.sop, actor, source: opts.source, reason: code }, `command trigger of ${r.sop} refused: ${error}`);
    const retry = r.error?.details.retryAfterSecs;
    return { sop: r.sop, status: "refused", code, error, ...(retry !== undefined ? { retry_after_secs: retry } : {}) };
  });
}
