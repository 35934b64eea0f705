/**
 * The HTTP API of SPEC §5.3 under `/api`: every call carries `Authorization: Bearer <token>`;
 * the token's name is the actor the engine checks approvals against.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../app/logger.ts";
import type { SopRunner } from "../../app/sop-runner.ts";
import { authenticate } from "../auth.ts";
import { setActor } from "./actor.ts";
import { registerDecisionRoutes } from "./decisions.ts";
import { registerExecuteRoutes } from "./execute.ts";
import { registerQueryRoutes } from "./queries.ts";

export interface ApiDeps {
  runner: SopRunner;
  tokens: ReadonlyMap<string, string>;
  log: Logger;
}

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/require-await -- avvio catches a throw while registering only from a plugin that returns a promise
  await app.register(async (api) => {
    api.addHook("onRequest", async (req, reply) => {
      const header = req.headers.authorization;
      const actor = authenticate(deps.tokens, header);
      if (actor === undefined) {
        const error = header === undefined
          ? "missing Authorization: Bearer <token> header; tokens come from API_TOKENS (name:token)"
          : "unknown or malformed bearer token";
        return reply.code(401).header("www-authenticate", 'Bearer realm="sop-runner"').send({ error, code: "unauthorized" });
      }
      setActor(req, actor);
      return undefined;
    });
    registerDecisionRoutes(api, deps);
    registerExecuteRoutes(api, deps);
    registerQueryRoutes(api, deps);
  }, { prefix: "/api" });
}
