/**
 * What the web UI asks before a decision from its forms reaches the engine, as Slack and Discord
 * do: Deny (Failed) needs a reason, and Approve on a critical SOP is confirmed first. The API
 * asks neither: it is for scripts, which say what they mean.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { reasonRequired } from "../../chat/approval-request.ts";
import { requestOf } from "./approval-view.ts";
import { confirmApprovePage } from "./pages/confirm-approve.ts";
import type { WebContext } from "./web-context.ts";

export interface FormDecision {
  decision: "approve" | "deny";
  checkpoint: string | undefined;
  /** The comment or reason, trimmed. */
  text: string | undefined;
  back: string | undefined;
  /** The "are you sure?" page's own form. */
  confirmed: boolean;
}

/**
 * True when the decision must not go on yet and the answer is sent. (A boolean, not the reply:
 * Fastify's reply is a thenable, which an async function's promise would resolve away.)
 */
export async function holdDecision(ctx: WebContext, request: FastifyRequest, reply: FastifyReply, runId: string, d: FormDecision): Promise<boolean> {
  const stored = await ctx.runner.run(runId);
  if (!stored) return false;
  const cp = stored.run.checkpoints.find((c) => c.id === d.checkpoint) ?? stored.run.checkpoints.find((c) => c.status === "pending");
  const manual = cp?.kind === "manual";
  if (d.decision === "deny" && !d.text) {
    const back = d.back === "approvals" ? "/approvals" : `/runs/${encodeURIComponent(runId)}`;
    ctx.redirect(request, reply, back, { kind: "error", text: `Nothing was decided. ${reasonRequired(manual)}` });
    return true;
  }
  if (d.decision !== "approve" || manual || d.confirmed || stored.definition.priority !== "critical" || cp?.status !== "pending") return false;
  const body = confirmApprovePage({
    runId, sop: stored.run.sop, checkpoint: cp.id, comment: d.text, back: d.back, csrf: ctx.session(request).csrf,
    request: await requestOf(ctx, stored, await ctx.runner.record(runId)),
  });
  ctx.page(request, reply, { title: "Are you sure?", nav: "approvals", body });
  return true;
}
