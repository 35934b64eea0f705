/**
 * Whether an SOP's chain of sealed audit records verifies, for the audit record page: the files
 * in LOGS_DIR checked by `sop audit verify`'s own code against the store's chain head, so a
 * record removed from the end is caught too.
 */
import { verifyAuditDir } from "../../audit/verify-audit.ts";
import type { SopRunner } from "../../app/sop-runner.ts";

export type ChainCheck =
  | { checked: false; why: string }
  /** `sealed`: records in the chain (the head's seq); `problems`: what `sop audit verify` would say. */
  | { checked: true; sealed: number; problems: string[] };

export async function checkChain(runner: Pick<SopRunner, "chainHeads">, logsDir: string | undefined, sop: string): Promise<ChainCheck> {
  if (logsDir === undefined) return { checked: false, why: "this server's web UI was not given LOGS_DIR" };
  try {
    const head = (await runner.chainHeads()).get(sop);
    const report = await verifyAuditDir(logsDir, { heads: new Map(head ? [[sop, head]] : []), sop });
    return { checked: true, sealed: head?.seq ?? 0, problems: report.problems.filter((p) => p.sop === sop).map((p) => p.message) };
  } catch (err) {
    return { checked: false, why: (err as Error).message };
  }
}
