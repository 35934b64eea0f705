import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { verifyAuditDir, type ChainHead } from "../../audit/verify-audit.ts";
import type { CliContext } from "../cli-context.ts";

/** Chain heads the local store keeps, read without taking DATA_DIR's lock (read-only). */
async function localHeads(dataDir: string): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  const dir = join(dataDir, "chain");
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return heads;
  }
  for (const f of files.filter((n) => n.endsWith(".json") && !n.startsWith("."))) {
    try {
      const head = JSON.parse(await readFile(join(dir, f), "utf8")) as ChainHead;
      if (typeof head.seq === "number" && typeof head.hash === "string") heads.set(f.slice(0, -5), { seq: head.seq, hash: head.hash });
    } catch {
      // an unreadable head only means the tail check is skipped for that SOP
    }
  }
  return heads;
}

export async function auditVerifyCommand(ctx: CliContext, logsDir: string, dataDir: string): Promise<number> {
  let report;
  try {
    report = await verifyAuditDir(logsDir, { heads: await localHeads(dataDir) });
  } catch (err) {
    ctx.err(`cannot verify ${logsDir}: ${(err as Error).message}`);
    return 2;
  }
  if (ctx.json) ctx.out(JSON.stringify(report, null, 2));
  else {
    for (const p of report.problems) ctx.out(ctx.color.red(`${p.kind}: ${p.message}`));
    const summary = `${report.records} sealed records of ${report.sops} SOPs checked, ${report.inProgress} in progress, ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`;
    ctx.out(report.problems.length ? ctx.color.red(summary) : ctx.color.green(summary));
  }
  return report.problems.length ? 1 : 0;
}
