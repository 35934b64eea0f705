/** The authenticated actor of an API request, set by the API's auth hook. */
import type { FastifyRequest } from "fastify";

const actors = new WeakMap<FastifyRequest, string>();

export function setActor(request: FastifyRequest, actor: string): void {
  actors.set(request, actor);
}

export function actorOf(request: FastifyRequest): string {
  const actor = actors.get(request);
  // The auth hook runs before every /api handler; reaching here without one is a wiring bug.
  if (actor === undefined) throw new Error(`no authenticated actor for ${request.method} ${request.url}`);
  return actor;
}
