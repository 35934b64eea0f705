/**
 * `sop run`, `approve`, `deny`, `cancel` and `trigger`, once for both ways of working: the
 * client starts or decides, then follows the run with the same progress lines until it ends or
 * waits for a person; the record and exit code follow (SPEC §5.2).
 */
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { VarValue } from "../../core/sop/types.ts";
import { EXIT, type CliContext } from "../cli-context.ts";
import { askAtGate } from "../gate-prompt.ts";
import { exitForStatus, printRecord, reportRefusal } from "../run-exit.ts";
import { decidedAt, progressPrinter } from "../run-progress.ts";
import type { DecisionTarget, SopClient } from "../sop-client.ts";

export interface RunFlags {
  vars: Record<string, VarValue>;
  approveAll: boolean;
  force: boolean;
  interactive: boolean;
}

/** Decide, say what was decided, and follow the run from there until it is at rest again. */
async function decideAndFollow(
  ctx: CliContext, client: SopClient, decision: "approve" | "deny", target: DecisionTarget, opts: { checkpoint?: string; text?: string },
): Promise<AuditRecord> {
  const { message, record } = await client.decide(decision, target, opts);
  if (!ctx.json) ctx.err(message);
  return client.follow(record.run_id, progressPrinter(ctx, { since: decidedAt(record) }));
}

/** `sop run`: start, show progress, and on a TTY ask at each gate; without one, leave it waiting (exit 3). */
export async function runCommand(ctx: CliContext, client: SopClient, name: string, flags: RunFlags): Promise<number> {
  try {
    const started = await client.execute(name, flags);
    let record = await client.follow(started.run_id, progressPrinter(ctx, { heading: true }));
    while (flags.interactive && exitForStatus(record.status) === EXIT.waiting) {
      const next = await askAtGate(ctx, record, (decision, o) => decideAndFollow(ctx, client, decision, { sop: record.sop, runId: o.runId }, {
        checkpoint: o.checkpoint, ...(o.reason !== undefined ? { text: o.reason } : {}),
      }), (err) => reportRefusal(ctx, err));
      if (!next) break;
      record = next;
    }
    printRecord(ctx, record);
    return exitForStatus(record.status);
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}

export async function decideCommand(
  ctx: CliContext, client: SopClient, decision: "approve" | "deny", name: string, runId: string | undefined, text: string | undefined,
): Promise<number> {
  try {
    const record = await decideAndFollow(ctx, client, decision, { sop: name, ...(runId ? { runId } : {}) }, text !== undefined ? { text } : {});
    printRecord(ctx, record);
    return exitForStatus(record.status);
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}

export async function cancelCommand(ctx: CliContext, client: SopClient, ref: string): Promise<number> {
  try {
    const { message, record } = await client.cancel(ref);
    if (ctx.json) ctx.out(JSON.stringify(record, null, 2));
    else ctx.out(message);
    return EXIT.ok;
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}

export async function triggerCommand(ctx: CliContext, client: SopClient, text: string): Promise<number> {
  try {
    const outcomes = await client.trigger(text);
    if (outcomes.length === 0) {
      ctx.err(`no command trigger matches "${text}"`);
      return EXIT.refused;
    }
    let code: number = EXIT.ok;
    const out: unknown[] = [];
    for (const o of outcomes) {
      if ("refusal" in o) {
        if (!ctx.json) ctx.err(`${o.sop}: ${o.refusal.message}`);
        out.push({ sop: o.sop, error: o.refusal.message, code: o.refusal.code });
        code = Math.max(code, o.refusal.exit);
        continue;
      }
      const record = await client.follow(o.record.run_id, progressPrinter(ctx, { heading: true }));
      out.push(record);
      if (!ctx.json) printRecord(ctx, record);
      code = Math.max(code, exitForStatus(record.status));
    }
    if (ctx.json) ctx.out(JSON.stringify(out, null, 2));
    return code;
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}
