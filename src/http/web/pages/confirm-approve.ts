import { criticalConfirm, type ApprovalRequest } from "../../../chat/approval-request.ts";
import { CSRF_FIELD } from "../csrf.ts";
import { html, seg, type SafeHtml } from "../html.ts";
import { requestSection } from "./request-section.ts";

export interface ConfirmApproval {
  runId: string;
  sop: string;
  checkpoint: string;
  comment?: string | undefined;
  /** "approvals" to go back there, else the run page. */
  back?: string | undefined;
  csrf: string;
  request?: ApprovalRequest | undefined;
}

/**
 * "Are you sure?" before an approval of a critical SOP counts, as Slack and Discord ask it: a page
 * of its own rather than a script's dialog, so it holds under the strict CSP and without script.
 * Its form sends the same decision again, with `confirmed=yes`.
 */
export function confirmApprovePage(o: ConfirmApproval): SafeHtml {
  const ask = criticalConfirm(o.sop, o.checkpoint, o.runId);
  const backHref = o.back === "approvals" ? "/approvals" : `/runs/${seg(o.runId)}`;
  return html`<section class="card decision confirm" aria-label="${ask.title}">
  <h1>Are you sure?</h1>
  <p class="lead">${ask.text}</p>
  ${o.request ? requestSection(o.request, "card") : ""}
  <form method="post" action="/runs/${seg(o.runId)}/decide" class="confirm">
    <input type="hidden" name="${CSRF_FIELD}" value="${o.csrf}">
    <input type="hidden" name="checkpoint" value="${o.checkpoint}">
    <input type="hidden" name="decision" value="approve">
    <input type="hidden" name="confirmed" value="yes">
    ${o.comment ? html`<input type="hidden" name="comment" value="${o.comment}"><p>Your comment: ${o.comment}</p>` : ""}
    ${o.back ? html`<input type="hidden" name="back" value="${o.back}">` : ""}
    <div class="confirm-buttons"><button type="submit" class="approve">${ask.yes}</button> <a class="button" href="${backHref}">${ask.no}</a></div>
  </form>
</section>`;
}
