/**
 * `sop run` on a terminal asks at each gate, whether the run goes in-process or on a server:
 * the question and the answers are the same, and so is what follows (`SopClient`).
 */
import { createInterface } from "node:readline/promises";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { CliContext } from "./cli-context.ts";

/** Approve (or Done) or deny (or Failed) the checkpoint asked about; resolves when the run is at rest again. */
export type DecideAtGate = (decision: "approve" | "deny", o: { runId: string; checkpoint: string; reason?: string }) => Promise<AuditRecord>;

/** The run after the person's answer, or undefined when they leave it waiting (or the decision was refused, reported). */
export async function askAtGate(ctx: CliContext, record: AuditRecord, decide: DecideAtGate, report: (err: unknown) => void): Promise<AuditRecord | undefined> {
  const gate = record.approvals.find((a) => a.decision === "pending");
  if (!gate) return undefined;
  const manual = gate.kind === "manual";
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  let answer: string;
  try {
    answer = (await rl.question(`${gate.gate} (${gate.reason}): ${manual ? "[d]one, [f]ailed" : "[a]pprove, [d]eny"}, or Enter to leave it waiting: `)).trim();
  } finally {
    rl.close();
  }
  const yes = manual ? /^d(one)?$/i : /^a(pprove)?$|^y(es)?$/i;
  const no = manual ? /^f(ail(ed)?)?$/i : /^d(eny)?$|^n(o)?$/i;
  if (!yes.test(answer) && !no.test(answer)) return undefined;
  const where = { runId: record.run_id, checkpoint: gate.gate };
  try {
    return yes.test(answer) ? await decide("approve", where) : await decide("deny", { ...where, reason: "denied at the terminal" });
  } catch (err) {
    report(err);
    return undefined;
  }
}
