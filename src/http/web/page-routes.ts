/** The pages: SOP list and detail, run history, a run (with its live fragment and events), approvals, audit. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { forecastRun, planRun, type Plan } from "../../core/plan/plan-run.ts";
import { isTerminal, OPEN_STATUSES, RUN_STATUSES, WAITING_STATUSES, type RunStatus } from "../../core/run/run-state.ts";
import { SopError } from "../../app/sop-error.ts";
import { requestOf } from "./approval-view.ts";
import { checkChain } from "./audit-chain.ts";
import { approvalsPage, type Waiting } from "./pages/approvals.ts";
import { auditPage } from "./pages/audit.ts";
import { pendingApproval } from "./pages/decision-panel.ts";
import { runListPage, type RunFilters } from "./pages/run-list.ts";
import { runLive, runTitle } from "./pages/run-live.ts";
import { runPage } from "./pages/run-page.ts";
import { sopDetailPage } from "./pages/sop-detail.ts";
import { sopListPage } from "./pages/sop-list.ts";
import { tokenLink } from "./routes.ts";
import type { RunStreams } from "./sse.ts";
import { RUN_ID, SOP_NAME, type WebContext } from "./web-context.ts";

const STATUS_GROUPS: Readonly<Record<string, readonly RunStatus[]>> = {
  waiting: WAITING_STATUSES,
  active: OPEN_STATUSES,
};
const RUNS_SHOWN = 100;
const RECENT_RUNS = 15;

/** The run and its pinned definition, or a 404 page already sent. */
async function findRun(ctx: WebContext, request: FastifyRequest, reply: FastifyReply) {
  const { id } = request.params as { id: string };
  const stored = RUN_ID.test(id) ? await ctx.runner.run(id) : undefined;
  if (!stored) {
    await ctx.notFound(request, reply, `There is no run ${id}.`);
    return undefined;
  }
  return stored;
}

/**
 * The plan of the steps still to come: the pinned definition, with the run's variables as the
 * record shows them (redacted), so no reason can print a secret the record hides. And what a
 * pending approval lets run (the run, read after the record, is at least as new).
 */
async function runView(ctx: WebContext, id: string) {
  const record = await ctx.runner.record(id);
  const stored = await ctx.runner.run(id);
  let plan: Plan | undefined;
  if (stored && !isTerminal(stored.run.status)) {
    try {
      plan = forecastRun(stored.definition, record);
    } catch (err) {
      ctx.log.warn({ err, run: id }, "could not plan the rest of a run for the web UI");
    }
  }
  const request = stored ? await requestOf(ctx, stored, record) : undefined;
  return { record, plan, request };
}

/** `logsDir`: where the audit files are, so the audit page can say whether the SOP's chain verifies. */
export function registerPageRoutes(scope: FastifyInstance, ctx: WebContext, streams: RunStreams, o: { logsDir?: string | undefined } = {}): void {
  const { runner } = ctx;

  scope.get("/", async (request, reply) => {
    // A login link answers with a redirect; the reply is then sent and the page is not drawn.
    await tokenLink(request, reply, ctx);
    if (reply.sent) return reply;
    const rows = await Promise.all(runner.sops().map(async ({ definition }) =>
      ({ definition, status: await runner.getStatus(definition.name) })));
    const pending = (await runner.waiting()).length;
    const body = sopListPage({ rows, pending, diagnostics: runner.diagnostics, csrf: ctx.session(request).csrf });
    return ctx.page(request, reply, { title: "SOPs", nav: "sops", body });
  });

  scope.get("/sops/:name", async (request, reply) => {
    const { name } = request.params as { name: string };
    const loaded = SOP_NAME.test(name) ? runner.sop(name) : undefined;
    if (!loaded) return ctx.notFound(request, reply, `There is no SOP named ${name}.`);
    const def = loaded.definition;
    const [status, recent] = await Promise.all([runner.getStatus(name), runner.history({ sop: name, limit: RECENT_RUNS })]);
    const body = sopDetailPage({
      def, status, plan: planRun(def, def.vars), runs: recent.runs, csrf: ctx.session(request).csrf,
      admin: await runner.isAdmin(ctx.actor(request)),
    });
    return ctx.page(request, reply, { title: name, nav: "sops", body });
  });

  scope.get("/runs", async (request, reply) => {
    const q = request.query as { sop?: unknown; status?: unknown; cursor?: unknown };
    const filters: RunFilters = {};
    if (typeof q.sop === "string" && SOP_NAME.test(q.sop)) filters.sop = q.sop;
    if (typeof q.status === "string" && (q.status in STATUS_GROUPS || (RUN_STATUSES as readonly string[]).includes(q.status))) filters.status = q.status;
    const statuses = filters.status ? (STATUS_GROUPS[filters.status] ?? [filters.status as RunStatus]) : undefined;
    const cursor = typeof q.cursor === "string" && q.cursor !== "" ? q.cursor : undefined;
    let page;
    try {
      page = await runner.history({ limit: RUNS_SHOWN, ...(filters.sop ? { sop: filters.sop } : {}), ...(statuses ? { statuses } : {}), ...(cursor ? { cursor } : {}) });
    } catch (err) {
      if (err instanceof SopError && err.code === "invalid") return ctx.notFound(request, reply, `That page of runs does not exist (${err.message}).`);
      throw err;
    }
    const sops = [...new Set([...runner.sops().map((s) => s.definition.name), ...(filters.sop ? [filters.sop] : [])])].sort();
    const body = runListPage({ runs: page.runs, next: page.next, paged: cursor !== undefined, sops, filters });
    return ctx.page(request, reply, { title: "Runs", nav: "runs", body });
  });

  scope.get("/runs/:id", async (request, reply) => {
    const stored = await findRun(ctx, request, reply);
    if (!stored) return reply;
    const view = await runView(ctx, stored.run.id);
    return ctx.page(request, reply, { title: runTitle(view.record), nav: "runs", body: runPage(view.record, view.plan, ctx.session(request).csrf, view.request) });
  });

  scope.get("/runs/:id/live", async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!RUN_ID.test(id) || !(await runner.run(id))) return reply.code(404).type("text/plain; charset=utf-8").send("no such run");
    const view = await runView(ctx, id);
    reply.header("x-run-status", view.record.status);
    return ctx.send(reply, runLive(view.record, view.plan, ctx.session(request).csrf, view.request));
  });

  scope.get("/runs/:id/events", async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!RUN_ID.test(id) || !(await runner.run(id))) return reply.code(404).type("text/plain; charset=utf-8").send("no such run");
    await streams.stream(reply, id, async () => {
      const run = (await runner.run(id))?.run;
      return { status: run?.status ?? "unknown", final: run ? isTerminal(run.status) : true };
    });
    return reply;
  });

  scope.get("/approvals", async (request, reply) => {
    const runs = (await runner.waiting()).sort((a, b) => a.queuedAt - b.queuedAt);
    const waiting: Waiting[] = [];
    for (const run of runs) {
      const record = await runner.record(run.id);
      const approval = pendingApproval(record);
      const stored = approval && (await runner.run(run.id));
      if (approval) waiting.push({ record, approval, request: stored ? await requestOf(ctx, stored, record) : undefined });
    }
    return ctx.page(request, reply, { title: "Approvals", nav: "approvals", body: approvalsPage({ waiting, csrf: ctx.session(request).csrf }) });
  });

  scope.get("/runs/:id/audit", async (request, reply) => {
    const stored = await findRun(ctx, request, reply);
    if (!stored) return reply;
    const record = await runner.record(stored.run.id);
    const chain = await checkChain(runner, o.logsDir, record.sop);
    return ctx.page(request, reply, { title: `Audit record: ${record.sop}`, nav: "runs", body: auditPage(record, chain) });
  });

  scope.get("/runs/:id/audit.json", async (request, reply) => {
    const stored = await findRun(ctx, request, reply);
    if (!stored) return reply;
    const record = await runner.record(stored.run.id);
    return reply
      .header("cache-control", "no-store")
      .header("content-disposition", `attachment; filename="${record.sop}-${record.run_id}.json"`)
      .type("application/json; charset=utf-8")
      .send(`${JSON.stringify(record, null, 2)}\n`);
  });
}
