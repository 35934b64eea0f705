/**
 * Bull Board, BullMQ's dashboard, at /admin/queues (Redis driver only), behind the web UI's
 * login: without a session a page goes to /login and the dashboard's API answers 401. It lives
 * in its own encapsulated scope, so its hooks, its error handler and its looser
 * Content-Security-Policy touch no other route.
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSessions } from "./web/index.ts";
import { NO_STORE, SECURITY_HEADERS } from "./web/security-headers.ts";

export const BULL_BOARD_PATH = "/admin/queues";

/**
 * The web UI's policy with two things loosened, both for Bull Board's own page: inline styles
 * (its loading screen and React components use `style` attributes and `<style>` elements) and
 * `base-uri 'self'` (its page sets `<base href="/admin/queues/">`). Scripts stay `'self'`: its
 * one inline `<script>` is a JSON data block, which CSP does not govern. No other origin is
 * allowed: the adapter serves every asset itself; the Google Fonts stylesheet its page links is
 * blocked and the system font shows instead.
 */
export const BULL_BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'";

export interface BullBoardDeps {
  queue: Queue;
  /** The web UI's sessions: the dashboard is behind the same login. */
  sessionOf: WebSessions["sessionOf"];
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** SOP_ADMINS: only they may change queues (pause, empty, add or remove jobs). */
  admins: readonly string[];
}

const isApi = (request: FastifyRequest): boolean => request.url.startsWith(`${BULL_BOARD_PATH}/api/`);

export async function registerBullBoard(app: FastifyInstance, deps: BullBoardDeps): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue, { description: "advance-run and timeout nudges, schedule ticks" })],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: "sop-runner queues" } },
  });

  await app.register(async (scope) => {
    scope.addHook("onRequest", async (request, reply) => {
      // Its API changes queues (pause, empty, retry) by PUT and DELETE; as with the web UI's
      // forms, nothing sent from another site may do that, even with the cookie attached.
      const unsafe = !["GET", "HEAD"].includes(request.method);
      if (unsafe && ["cross-site", "same-site"].includes(request.headers["sec-fetch-site"] ?? "")) {
        return reply.code(403).send({ error: "refused: this request came from another site", code: "cross_site" });
      }
      const session = deps.sessionOf(request);
      if (session) {
        if (!unsafe) return undefined;
        // Emptying a queue or removing a job can strand a run's next step: admins only.
        const actor = `api:${session.tokenName}`;
        if (!deps.admins.includes(actor)) {
          deps.log.warn({ token: session.tokenName, method: request.method, route: request.routeOptions.url }, "Bull Board action refused: not an admin");
          return reply.code(403).send({ error: `not allowed: only admins (SOP_ADMINS) may change queues; ${actor} is not one`, code: "not_allowed" });
        }
        // Queue changes are in no run's audit record; the log at least says who made them.
        deps.log.info({ token: session.tokenName, method: request.method, route: request.routeOptions.url }, "Bull Board action");
        return undefined;
      }
      if (isApi(request)) return reply.code(401).send({ error: "sign in to the web UI first", code: "unauthorized" });
      const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
      return reply.code(303).header("location", `/login${next}`).send();
    });
    scope.addHook("onSend", async (_request, reply, payload) => {
      reply.headers({ ...SECURITY_HEADERS, "content-security-policy": BULL_BOARD_CSP });
      // The page and the API show job data: not cached. Static files keep the adapter's caching.
      if (!reply.hasHeader("cache-control")) reply.headers(NO_STORE);
      return payload;
    });
    await scope.register(adapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
  deps.log.info({ path: BULL_BOARD_PATH }, `Bull Board at ${BULL_BOARD_PATH} (behind the web UI's login)`);
}
