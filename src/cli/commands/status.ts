import type { SopRunner } from "../../app/sop-runner.ts";
import type { CliContext } from "../cli-context.ts";
import { printRunStatus, reportRefusal } from "../run-exit.ts";
import { printSopStatus } from "../sop-status-view.ts";

/**
 * `sop status NAME|RUN_ID`: one run (exit code = its state), or an SOP's runs and metrics. With
 * `idle` (the local store, held by no process) a run shown running was interrupted: say so.
 */
export async function statusCommand(ctx: CliContext, runner: SopRunner, ref: string, opts: { idle?: boolean } = {}): Promise<number> {
  try {
    const stored = await runner.run(ref);
    if (stored) {
      const record = await runner.record(ref);
      const code = printRunStatus(ctx, record);
      if (opts.idle && record.status === "running") noteInterrupted(ctx, [ref]);
      return code;
    }
    const status = await runner.getStatus(ref);
    const interrupted = status.active.filter((r) => r.status === "running").map((r) => r.id);
    if (opts.idle && interrupted.length > 0) noteInterrupted(ctx, interrupted);
    printSopStatus(ctx, {
      sop: status.sop, active: status.active.map((r) => ({ id: r.id, status: r.status })),
      queued: status.queued.map((r) => ({ id: r.id })), last: status.last ? { id: status.last.id, status: status.last.status } : null,
      cooldown_remaining_secs: status.cooldown_remaining_secs, metrics: status.metrics,
    });
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
