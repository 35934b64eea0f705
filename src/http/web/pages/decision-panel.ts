import type { AuditApproval, AuditRecord } from "../../../core/audit/audit-record.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { time, who } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";

/** The checkpoint a run waits at, if any: what the Approve / Deny buttons bind to. */
export function pendingApproval(record: AuditRecord): AuditApproval | undefined {
  return record.approvals.find((a) => a.decision === "pending");
}

/** "step:3" → "before step 3 · Deploy to Staging"; "manual:2" → "step 2 · …"; gates by name. */
export function gateLabel(record: AuditRecord, a: AuditApproval): string {
  const [kind, rest = ""] = a.gate.split(":", 2);
  const title = (n: string) => record.steps.find((s) => String(s.number) === n)?.title ?? "";
  if (kind === "step") return `before step ${rest} · ${title(rest)}`;
  if (kind === "manual") return `step ${rest} · ${title(rest)}`;
  if (kind === "gate") return `gate ${rest}`;
  return "before the first step";
}

/**
 * Approve / Deny (Done / Failed for manual steps) for the pending checkpoint. The forms carry
 * the checkpoint id, so a page left open on an earlier gate can never decide a later one; whether
 * the click counts is the engine's call, and its answer comes back as the page's flash.
 */
export function decisionPanel(record: AuditRecord, a: AuditApproval, csrf: string, back?: string): SafeHtml {
  const manual = a.kind === "manual";
  const [yes, no] = manual ? ["Done", "Failed"] : ["Approve", "Deny"];
  const hidden = (decision: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
      <input type="hidden" name="checkpoint" value="${a.gate}">
      <input type="hidden" name="decision" value="${decision}">
      ${back ? html`<input type="hidden" name="back" value="${back}">` : ""}`;
  const action = `/runs/${seg(record.run_id)}/decide`;
  return html`<section class="card decision" data-checkpoint="${a.gate}" aria-label="Pending ${manual ? "manual step" : "approval"}">
  <h2>${manual ? "Waiting for a person to finish" : "Waiting for approval"}: ${gateLabel(record, a)}</h2>
  <dl class="facts">
    <div><dt>Why</dt><dd>${a.reason}</dd></div>
    <div><dt>Who may decide</dt><dd>${who(a.approvers)}</dd></div>
    <div><dt>Approvals</dt><dd>${a.by.length} of ${a.min_approvals}${a.by.length ? html` (${a.by.join(", ")})` : ""}</dd></div>
    <div><dt>Requested</dt><dd>${time(a.requested_at)}</dd></div>
    <div><dt>Deadline</dt><dd>${a.deadline ? time(a.deadline) : "none (waits until decided)"}</dd></div>
    <div><dt>Requested by</dt><dd>${record.requested_by}</dd></div>
  </dl>
  ${a.refused.length ? html`<p class="muted">Refused: ${a.refused.map((r) => `${r.by} (${r.reason})`).join("; ")}</p>` : ""}
  <div class="decide">
    <form method="post" action="${action}" class="approve">
      ${hidden("approve")}
      <label>Comment <small>(optional)</small><input name="comment" maxlength="1000" autocomplete="off" data-keep="comment-${a.gate}"></label>
      <button type="submit" class="approve">${yes}</button>
    </form>
    <form method="post" action="${action}" class="deny">
      ${hidden("deny")}
      <label>Reason<input name="reason" maxlength="1000" autocomplete="off" data-keep="reason-${a.gate}"></label>
      <button type="submit" class="deny">${no}</button>
    </form>
  </div>
</section>`;
}
