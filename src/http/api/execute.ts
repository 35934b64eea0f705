/** Start runs: by name (execute, 202 with the run) or by text that matches command triggers. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fireCommandTrigger } from "./command-trigger.ts";
import type { ApiDeps } from "./index.ts";
import { actorOf } from "./actor.ts";
import { executeBody, triggerBody, type ExecuteBody, type TriggerBody } from "./schemas.ts";

/** The sop CLI says who it is; its runs are recorded as from the CLI, as when it runs in-process. */
const fromCli = (req: FastifyRequest): boolean => /^sop-cli\//.test(req.headers["user-agent"] ?? "");

export function registerExecuteRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { runner } = deps;

  api.post<{ Body: ExecuteBody }>("/sop/execute", { schema: { body: executeBody } }, async (req, reply) => {
    const { sop, vars, skip_approval, force } = req.body;
    const record = await runner.execute(sop, {
      actor: actorOf(req), wait: false, trigger: { type: "manual", source: fromCli(req) ? "cli" : "api" },
      ...(vars ? { vars } : {}), ...(skip_approval ? { skipApproval: true } : {}), ...(force ? { force: true } : {}),
    });
    return reply.code(202).send(record);
  });

  api.post<{ Body: TriggerBody }>("/sop/trigger", { schema: { body: triggerBody } }, async (req) => {
    const results = await fireCommandTrigger(runner, req.body.text, { actor: actorOf(req), source: "api" });
    return {
      matched: results.length,
      ...(results.length === 0 ? { message: "no command trigger matches this text" } : {}),
      results,
    };
  });
}
