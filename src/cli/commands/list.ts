import { describeTrigger } from "../../core/sop/describe-trigger.ts";
import { EXIT, type CliContext } from "../cli-context.ts";
import { reportRefusal } from "../run-exit.ts";
import type { SopClient } from "../sop-client.ts";

/** `sop list`: the SOPs and their triggers; those that did not load are named on stderr. */
export async function listCommand(ctx: CliContext, client: SopClient): Promise<number> {
  let listed;
  try {
    listed = await client.list();
  } catch (err) {
    return reportRefusal(ctx, err);
  }
  const { sops, broken } = listed;
  if (ctx.json) ctx.out(JSON.stringify(sops, null, 2));
  else {
    const { color } = ctx;
    const width = Math.max(4, ...sops.map((s) => s.name.length));
    for (const s of sops) {
      const triggers = s.triggers.filter((t) => t.type !== "manual").map(describeTrigger).join(", ");
      ctx.out(`${color.bold(s.name.padEnd(width))}  ${s.priority.padEnd(8)} ${s.execution_mode.padEnd(14)} ${s.description}${triggers ? color.dim(`  [${triggers}]`) : ""}`);
    }
    if (sops.length === 0) ctx.out(`no SOPs in ${client.where}`);
  }
  for (const line of broken) ctx.err(ctx.color.red(line));
  if (broken.length) ctx.err(ctx.color.red(`some SOPs in ${client.where} have errors and are not listed; run: sop validate`));
  return EXIT.ok;
}
