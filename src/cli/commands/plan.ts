import { formatDiagnostic, loadSopFolder } from "../../app/load-sops.ts";
import { planRun } from "../../core/plan/plan-run.ts";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { EXIT, type CliContext } from "../cli-context.ts";
import { SOP_NAME } from "../../core/names.ts";

export async function planCommand(ctx: CliContext, sopsDir: string, name: string, vars: Record<string, string>): Promise<number> {
  const dir = join(sopsDir, name);
  if (!SOP_NAME.test(name) || !existsSync(dir)) {
    ctx.err(`unknown SOP "${name}" in ${sopsDir}; sop list shows the SOPs there`);
    return EXIT.refused;
  }
  const { sop, diagnostics } = await loadSopFolder(dir, name);
  if (!sop) {
    for (const d of diagnostics) ctx.err(formatDiagnostic(d));
    ctx.err(`${name} is not valid; fix the errors above`);
    return EXIT.usage;
  }
  const plan = planRun(sop.definition, vars);
  if (ctx.json) {
    ctx.out(JSON.stringify(plan, null, 2));
    return EXIT.ok;
  }
  const { color } = ctx;
  const d = sop.definition;
  ctx.out(`${color.bold(d.name)} ${d.version} — ${d.executionMode}, priority ${d.priority}`);
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
