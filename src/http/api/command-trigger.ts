/**
 * `POST /sop/trigger` (SPEC §2.1): text that matches an SOP's command trigger starts it with the
 * captures; each match answers started (with the run) or refused (with the reason: cooldown
 * seconds left, not allowed …). The runner's admissions log and count both.
 */
import type { ActorRef } from "../../app/run-engine.ts";
import type { SopRunner } from "../../app/sop-runner.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";

export type CommandTriggerResult =
  | { sop: string; status: "started"; run: AuditRecord }
  | { sop: string; status: "refused"; code: string; error: string; retry_after_secs?: number };

export async function fireCommandTrigger(runner: SopRunner, text: string, opts: { actor: string | ActorRef; source: string }): Promise<CommandTriggerResult[]> {
  const results = await runner.trigger(text, { actor: opts.actor, source: opts.source, wait: false });
  return results.map((r): CommandTriggerResult => {
    if (r.record) return { sop: r.sop, status: "started", run: r.record };
    const retry = r.error?.details.retryAfterSecs;
    return {
      sop: r.sop, status: "refused", code: r.error?.code ?? "refused", error: r.error?.message ?? "refused",
      ...(retry !== undefined ? { retry_after_secs: retry } : {}),
    };
  });
}
