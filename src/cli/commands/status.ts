import { EXIT, type CliContext } from "../cli-context.ts";
import { printRunStatus, reportRefusal } from "../run-exit.ts";
import type { SopClient } from "../sop-client.ts";
import { printSopStatus } from "../sop-status-view.ts";

/** `sop status NAME|RUN_ID`: one run (exit code = its state), or an SOP's runs and metrics. */
export async function statusCommand(ctx: CliContext, client: SopClient, ref: string): Promise<number> {
  try {
    const answer = await client.status(ref);
    if (answer.interrupted.length > 0) noteInterrupted(ctx, answer.interrupted);
    if (answer.kind === "run") return printRunStatus(ctx, answer.record);
    printSopStatus(ctx, answer.status);
    return EXIT.ok;
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
