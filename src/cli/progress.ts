/** Run events as progress lines on stderr: what a person watching `sop run` wants to see. */
import type { RunEvent } from "../core/run/effects.ts";
import type { StoredRun } from "../ports/run-store.ts";
import type { CliContext } from "./cli-context.ts";

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export interface Progress {
  /** Wait until every line for the events so far is printed, then stop listening. */
  stop(): Promise<void>;
}

/**
 * A finished step's output under its line (stderr, with the progress), indented, unless
 * `--quiet` or `--json`. It is what the store kept: capped, and with secrets redacted.
 */
export function printStepOutput(ctx: CliContext, output: string): void {
  if (ctx.quiet || ctx.json) return;
  const text = output.replace(/\n+$/, "");
  if (text === "") return;
  for (const line of text.split("\n")) ctx.err(ctx.color.dim(`      ${line}`));
}

export function printProgress(ctx: CliContext, runs: { run(id: string): Promise<StoredRun | undefined> }, events: { subscribe(h: (e: RunEvent) => void): () => void }): Progress {
  const { color } = ctx;
  // Lines are printed in event order even though each needs a store read first.
  let printed: Promise<void> = Promise.resolve();
  const unsubscribe = events.subscribe((event) => {
    printed = printed.then(() => runs.run(event.runId)).then((stored) => {
      if (!stored) return;
      const { run } = stored;
      const step = "step" in event && event.step !== undefined ? run.steps[event.step - 1] : undefined;
      const name = step ? `${step.number}. ${step.title}` : "";
      switch (event.type) {
        case "run_started":
          ctx.err(color.bold(`${run.sop} ${run.version} — run ${run.id}`));
          break;
        case "step_started":
          ctx.err(`  ${color.cyan("▶")} ${name}`);
          break;
        case "step_finished": {
          if (!step) break;
          const took = step.startedAt !== undefined && step.completedAt !== undefined ? ` (${seconds(step.completedAt - step.startedAt)})` : "";
          if (event.status === "success") ctx.err(`  ${color.green("✓")} ${name}${took}`);
          else if (event.status === "skipped") ctx.err(color.dim(`  – ${name} skipped: ${step.reason ?? ""}`));
          else if (event.status === "bypassed") ctx.err(`  ${color.yellow("»")} ${name} bypassed`);
          else ctx.err(`  ${color.red("✗")} ${name} failed: ${step.reason ?? ""}${took}`);
          printStepOutput(ctx, step.output);
          break;
        }
        case "approval_requested":
        case "manual_requested": {
          if (event.type === "approval_requested" && event.status === "notified") {
            ctx.err(`  ${color.yellow("!")} ${event.checkpoint} announced (approval not required)`);
            break;
          }
          const what = event.type === "manual_requested" ? "waits for a person to mark it Done or Failed" : "waits for approval";
          ctx.err(`  ${color.yellow("⏸")} ${event.checkpoint}${name ? ` (${name})` : ""} ${what}: sop approve ${run.sop} ${run.id}`);
          break;
        }
        case "approval_decided":
          ctx.err(`  ${color.yellow("✔")} ${event.checkpoint} ${event.status}${event.by ? ` by ${event.by}` : ""}`);
          break;
        case "approval_refused":
          ctx.err(`  ${color.red("⛔")} ${event.by} was refused on ${event.checkpoint}`);
          break;
        case "run_finished": {
          const took = run.startedAt !== undefined && run.completedAt !== undefined ? ` in ${seconds(run.completedAt - run.startedAt)}` : "";
          const paint = run.status === "success" ? color.green : color.red;
          ctx.err(paint(`${run.sop}: ${run.status}${took}${run.endReason ? ` — ${run.endReason}` : ""}`));
          break;
        }
        default:
          break;
      }
    });
  });
  return {
    async stop() {
      unsubscribe();
      await printed;
    },
  };
}
