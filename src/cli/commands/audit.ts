import { verifyAuditDir } from "../../audit/verify-audit.ts";
import type { ChainHead } from "../../ports/run-store.ts";
import type { CliContext } from "../cli-context.ts";

/**
 * `sop audit verify [DIR]`: the files against each other and against the chain heads of the
 * store (Redis or DATA_DIR), which notice records removed from the end of a chain.
 */
export async function auditVerifyCommand(ctx: CliContext, logsDir: string, heads: () => Promise<Map<string, ChainHead>>, where: string): Promise<number> {
  let report;
  try {
    let known: Map<string, ChainHead>;
    try {
      known = await heads();
    } catch (err) {
      ctx.err(`cannot read the chain heads from ${where}: ${(err as Error).message}`);
      return 2;
    }
    report = await verifyAuditDir(logsDir, { heads: known });
  } catch (err) {
    ctx.err(`cannot verify ${logsDir}: ${(err as Error).message}`);
    return 2;
  }
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else {
    for (const p of report.problems) ctx.out(ctx.color.red(`${p.kind}: ${p.message}`));
    const summary = `${report.records} sealed records of ${report.sops} SOPs checked against the chain heads in ${where}, ${report.inProgress} in progress, ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`;
    ctx.out(report.problems.length ? ctx.color.red(summary) : ctx.color.green(summary));
  }
  return report.problems.length ? 1 : 0;
}
