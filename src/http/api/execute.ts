/** Start runs: by name (execute, 202 with the run) or by text that matches command triggers. */
import type { FastifyInstance } from "fastify";
import { SopError } from "../../app/sop-error.ts";
import { fireCommandTrigger } from "../../main/triggers/command-trigger.ts";
import type { ApiDeps } from "./index.ts";
import { actorOf } from "./actor.ts";
import { executeBody, triggerBody, type ExecuteBody, type TriggerBody } from "./schemas.ts";

export function registerExecuteRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { runner, metrics } = deps;

  api.post<{ Body: ExecuteBody }>("/sop/execute", { schema: { body: executeBody } }, async (req, reply) => {
    const { sop, vars, skip_approval, force } = req.body;
    try {
      const record = await runner.execute(sop, {
        actor: actorOf(req), wait: false, trigger: { type: "manual", source: "api" },
        ...(vars ? { vars } : {}), ...(skip_approval ? { skipApproval: true } : {}), ...(force ? { force: true } : {}),
      });
      return await reply.code(202).send(record);
    } catch (err) {
      if (err instanceof SopError && (err.code === "cooldown" || err.code === "not_allowed")) metrics.runRefused(sop, err.code, "manual");
      throw err;
    }
  });

  api.post<{ Body: TriggerBody }>("/sop/trigger", { schema: { body: triggerBody } }, async (req) => {
    const results = await fireCommandTrigger({ runner, metrics, log: deps.log }, req.body.text, { actor: actorOf(req), source: "api" });
    return {
      matched: results.length,
      ...(results.length === 0 ? { message: "no command trigger matches this text" } : {}),
      results,
    };
  });
}
