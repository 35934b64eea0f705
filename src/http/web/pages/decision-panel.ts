import { reasonRequired, type ApprovalRequest } from "../../../chat/approval-request.ts";
import type { AuditApproval, AuditRecord } from "../../../core/audit/audit-record.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { time, who } from "../format.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { requestSection, type RequestMode } from "./request-section.ts";

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

export interface PanelOptions {
  /** Where the form sends the person back: the approvals page, else the run page. */
  back?: string;
  /** What the decision lets run, and what changed (absent: the panel still decides). */
  request?: ApprovalRequest;
  mode?: RequestMode;
}

/**
 * Approve / Deny (Done / Failed for manual steps) for the pending checkpoint. The forms carry
 * the checkpoint id, so a page left open on an earlier gate can never decide a later one; whether
 * the click counts is the engine's call, and its answer comes back as the page's flash. Deny
 * needs a reason, as in Slack and Discord: the browser refuses a blank one (app.js words it), and
 * so does the server. Approve on a critical SOP answers with a confirmation page first.
 */
export function decisionPanel(record: AuditRecord, a: AuditApproval, csrf: string, o: PanelOptions = {}): SafeHtml {
  const manual = a.kind === "manual";
  const [yes, no] = manual ? ["Done", "Failed"] : ["Approve", "Deny"];
  const hidden = (decision: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
      <input type="hidden" name="checkpoint" value="${a.gate}">
      <input type="hidden" name="decision" value="${decision}">
      ${o.back ? html`<input type="hidden" name="back" value="${o.back}">` : ""}`;
  const action = `/runs/${seg(record.run_id)}/decide`;
  const hint = `hint-${record.run_id.slice(0, 8)}-${a.gate.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  return html`<section class="card decision" data-checkpoint="${a.gate}" aria-label="Pending ${manual ? "manual step" : "approval"}">
  <h2>${manual ? "Waiting for a person to finish" : "Waiting for approval"}: ${o.request?.where ?? gateLabel(record, a)}</h2>
  <dl class="facts">
    <div><dt>Why</dt><dd>${a.reason}</dd></div>
    <div><dt>Who may decide</dt><dd>${who(a.approvers)}</dd></div>
    <div><dt>Approvals</dt><dd>${a.by.length} of ${a.min_approvals}${a.by.length ? html` (${a.by.join(", ")})` : ""}</dd></div>
    <div><dt>Requested</dt><dd>${time(a.requested_at)}</dd></div>
    <div><dt>Deadline</dt><dd>${a.deadline ? time(a.deadline) : "none (waits until decided)"}</dd></div>
    <div><dt>Requested by</dt><dd>${record.requested_by}</dd></div>
  </dl>
  ${a.refused.length ? html`<p class="muted">Refused: ${a.refused.map((r) => `${r.by} (${r.reason})`).join("; ")}</p>` : ""}
  ${o.request ? requestSection(o.request, o.mode ?? "full") : ""}
  <div class="decide">
    <form method="post" action="${action}" class="approve">
      ${hidden("approve")}
      <label>Comment <small>(optional)</small><input name="comment" maxlength="1000" autocomplete="off" data-keep="comment-${a.gate}"></label>
      <button type="submit" class="approve">${yes}</button>
      ${o.request?.critical ? html`<small class="muted">A critical SOP: you are asked to confirm first.</small>` : ""}
    </form>
    <form method="post" action="${action}" class="deny">
      ${hidden("deny")}
      <label>Reason <small>(required)</small><input name="reason" maxlength="1000" autocomplete="off" required pattern=".*\\S.*"
        data-required-message="${reasonRequired(manual)}" aria-describedby="${hint}" data-keep="reason-${a.gate}"></label>
      <button type="submit" class="deny">${no}</button>
      <small class="muted" id="${hint}">${manual ? "The step fails" : "The run ends"}; the reason goes into the audit record.</small>
    </form>
  </div>
</section>`;
}
