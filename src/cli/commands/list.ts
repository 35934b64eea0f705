import { loadSops, formatDiagnostic } from "../../app/load-sops.ts";
import { describeTrigger } from "../../core/sop/describe-trigger.ts";
import { EXIT, type CliContext } from "../cli-context.ts";


export async function listCommand(ctx: CliContext, sopsDir: string): Promise<number> {
  const { sops, diagnostics } = await loadSops(sopsDir);
  const broken = diagnostics.filter((d) => d.severity === "error");
  if (ctx.json) {
    ctx.out(JSON.stringify(sops.map(({ definition: d }) => ({
      name: d.name, description: d.description, version: d.version, priority: d.priority,
      execution_mode: d.executionMode, cooldown_secs: d.cooldownSecs, max_concurrent: d.maxConcurrent,
      triggers: d.triggers, steps: d.steps.length,
    })), null, 2));
  } else {
    const { color } = ctx;
    const width = Math.max(4, ...sops.map((s) => s.definition.name.length));
    for (const { definition: d } of sops) {
      const triggers = d.triggers.filter((t) => t.type !== "manual").map(describeTrigger).join(", ");
      ctx.out(`${color.bold(d.name.padEnd(width))}  ${d.priority.padEnd(8)} ${d.executionMode.padEnd(14)} ${d.description}${triggers ? color.dim(`  [${triggers}]`) : ""}`);
    }
    if (sops.length === 0) ctx.out(`no SOPs in ${sopsDir}`);
  }
  for (const d of broken) ctx.err(ctx.color.red(formatDiagnostic(d)));
  if (broken.length) ctx.err(ctx.color.red(`some SOPs in ${sopsDir} have errors and are not listed; run: sop validate ${sopsDir}`));
  return EXIT.ok;
}
