import type { VarValue } from "../../core/sop/types.ts";
import { EXIT, type CliContext } from "../cli-context.ts";
import { reportRefusal } from "../run-exit.ts";
import type { SopClient } from "../sop-client.ts";

/** `sop plan NAME`: which steps would run, skip or wait, and why; nothing runs. */
export async function planCommand(ctx: CliContext, client: SopClient, name: string, vars: Record<string, VarValue>): Promise<number> {
  let answer;
  try {
    answer = await client.plan(name, vars);
  } catch (err) {
    return reportRefusal(ctx, err);
  }
  const { plan } = answer;
  if (ctx.json) {
    ctx.out(JSON.stringify(plan, null, 2));
    return EXIT.ok;
  }
  const { color } = ctx;
  ctx.out(`${color.bold(plan.sop)} ${answer.version} — ${answer.execution_mode}, priority ${answer.priority}`);
  const width = Math.max(...plan.steps.map((s) => s.title.length), 5);
  const paint = { run: color.green, skip: color.dim, approval: color.yellow, manual: color.cyan } as const;
  for (const s of plan.steps) {
    // "skip?": the decision rests on a variable an earlier step may set; the reason says which.
    const decision = `${s.decision}${s.certain ? "" : "?"}`;
    ctx.out(`  ${String(s.number).padStart(2)}. ${s.title.padEnd(width)}  ${paint[s.decision](decision.padEnd(9))}  ${s.reason}`);
  }
  for (const g of plan.gates) ctx.out(`  gate ${g.name} (${g.type}): ${g.decision} — ${g.reason}`);
  return EXIT.ok;
}
