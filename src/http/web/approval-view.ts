/**
 * The request a waiting run shows on a page, built as chat builds it (src/chat): what the
 * decision lets run, from the pinned definition and the redacted record, and what changed in the
 * SOP since the gate was last passed.
 */
import { approvalRequest, type ApprovalRequest } from "../../chat/approval-request.ts";
import { definitionChanges } from "../../chat/definition-change.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { StoredRun } from "../../ports/run-store.ts";
import { pendingApproval } from "./pages/decision-panel.ts";
import type { WebContext } from "./web-context.ts";

export async function requestOf(ctx: WebContext, stored: StoredRun, record: AuditRecord): Promise<ApprovalRequest | undefined> {
  const waiting = pendingApproval(record);
  // The record was read first: a decision since then leaves nothing to show.
  const cp = waiting && stored.run.checkpoints.find((c) => c.id === waiting.gate && c.status === "pending");
  if (!cp) return undefined;
  try {
    return approvalRequest({ stored, record }, cp, (await definitionChanges(ctx.runner, stored)).get(cp.id));
  } catch (err) {
    // The change is a warning on top of the request; the store failing to tell it must not hide the rest.
    ctx.log.warn({ err, run: stored.run.id }, "could not compare the SOP's definition with the last run that passed this gate");
    return approvalRequest({ stored, record }, cp);
  }
}
