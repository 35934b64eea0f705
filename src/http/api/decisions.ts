/** Approve, deny and cancel. Each records the decision and returns; a worker advances the run. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "./index.ts";
import { actorOf } from "./actor.ts";
import { approveBody, cancelBody, denyBody, type ApproveBody, type CancelBody, type DenyBody } from "./schemas.ts";

export function registerDecisionRoutes(api: FastifyInstance, { runner }: ApiDeps): void {
  api.post<{ Body: ApproveBody }>("/sop/approve", { schema: { body: approveBody } }, async (req) => {
    const { sop, run_id, checkpoint, comment } = req.body;
    const { message, record } = await runner.approve(sop, {
      actor: actorOf(req), ...(run_id !== undefined ? { runId: run_id } : {}), ...(checkpoint !== undefined ? { checkpoint } : {}),
      ...(comment !== undefined ? { comment } : {}),
    });
    return { message, run: record };
  });

  api.post<{ Body: DenyBody }>("/sop/deny", { schema: { body: denyBody } }, async (req) => {
    const { sop, run_id, checkpoint, reason } = req.body;
    const { message, record } = await runner.deny(sop, {
      actor: actorOf(req), ...(run_id !== undefined ? { runId: run_id } : {}), ...(checkpoint !== undefined ? { checkpoint } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
    return { message, run: record };
  });

  api.post<{ Body: CancelBody }>("/sop/cancel", { schema: { body: cancelBody } }, async (req) => {
    const { sop, run_id, reason } = req.body;
    const ref = { ...(sop !== undefined ? { sop } : {}), ...(run_id !== undefined ? { runId: run_id } : {}) };
    const { message, record } = await runner.cancel(ref, { actor: actorOf(req), ...(reason !== undefined ? { reason } : {}) });
    return { message, run: record };
  });
}
