import type { SopRunner } from "../../app/sop-runner.ts";
import type { CliContext } from "../cli-context.ts";
import { printRunStatus, reportRefusal } from "../run-exit.ts";

const ms = (v: number | null): string => (v === null ? "–" : `${(v / 1000).toFixed(1)} s`);

/**
 * `sop status NAME|RUN_ID`: one run (exit code = its state), or an SOP's runs and metrics. With
 * `idle` (the local store, held by no process) a run shown running was interrupted: say so.
 */
export async function statusCommand(ctx: CliContext, runner: SopRunner, ref: string, opts: { idle?: boolean } = {}): Promise<number> {
  try {
    const stored = await runner.store.get(ref);
    if (stored) {
      const record = await runner.record(ref);
      const code = printRunStatus(ctx, record);
      if (opts.idle && record.status === "running") noteInterrupted(ctx, [ref]);
      return code;
    }
    const status = await runner.getStatus(ref);
    const interrupted = status.active.filter((r) => r.status === "running").map((r) => r.id);
    if (opts.idle && interrupted.length > 0) noteInterrupted(ctx, interrupted);
    if (ctx.json) {
      ctx.out(JSON.stringify({
        sop: status.sop, active: status.active.map((r) => ({ id: r.id, status: r.status })),
        queued: status.queued.map((r) => ({ id: r.id })), last: status.last ? { id: status.last.id, status: status.last.status } : null,
        cooldown_remaining_secs: status.cooldown_remaining_secs, metrics: status.metrics,
      }, null, 2));
      return 0;
    }
    const m = status.metrics;
    ctx.out(`${status.sop}: ${status.active.length} active, ${status.queued.length} queued, cooldown ${status.cooldown_remaining_secs} s left`);
    for (const r of status.active) ctx.out(`  ${r.id}  ${r.status}`);
    if (status.last) ctx.out(`  last: ${status.last.id} ${status.last.status}`);
    ctx.out(`  ${m.runs} runs, success rate ${m.success_rate === null ? "–" : `${Math.round(m.success_rate * 100)}%`}, duration p50 ${ms(m.duration_p50_ms)} p95 ${ms(m.duration_p95_ms)}, approval wait p50 ${ms(m.approval_wait_p50_ms)} p95 ${ms(m.approval_wait_p95_ms)}`);
    return 0;
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}

function noteInterrupted(ctx: CliContext, runIds: string[]): void {
  ctx.err(ctx.color.yellow(
    `note: no sop process is running ${runIds.length === 1 ? `run ${runIds[0]}` : `runs ${runIds.join(", ")}`}: the process that ran it stopped. ` +
    "The next `sop serve`, `sop run` or `sop approve` recovers it: the step it was in fails (\"interrupted\"), or runs again when it has retries.",
  ));
}
