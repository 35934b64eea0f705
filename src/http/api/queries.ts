/** Read-only: SOPs with their plan and status, a plan for given variables, runs, and one run's audit record. */
import type { FastifyInstance } from "fastify";
import { formatDiagnostic } from "../../app/load-sops.ts";
import { SopError } from "../../app/sop-error.ts";
import { RUN_STATUSES, type RunStatus } from "../../core/run/run-state.ts";
import type { ApiDeps } from "./index.ts";
import { idParams, nameParams, planBody, runsQuery, type PlanBody, type RunsQuery } from "./schemas.ts";
import { definitionView, runBrief, statusView } from "./views.ts";

export function registerQueryRoutes(api: FastifyInstance, { runner }: ApiDeps): void {
  api.get("/sops", async () => {
    const sops = await Promise.all(runner.list().map(async (summary) => {
      const status = await runner.getStatus(summary.name);
      return {
        ...summary,
        cooldown_remaining_secs: status.cooldown_remaining_secs,
        active: status.active.length,
        queued: status.queued.length,
        success_rate: status.metrics.success_rate,
        last: status.last ? runBrief(status.last) : null,
      };
    }));
    const diagnostics = runner.diagnostics.map((d) => ({ ...d, text: formatDiagnostic(d) }));
    return { sops, diagnostics };
  });

  api.get<{ Params: { name: string } }>("/sops/:name", { schema: { params: nameParams } }, async (req) => {
    const { name } = req.params;
    const loaded = runner.sop(name);
    if (!loaded) throw new SopError("unknown_sop", `unknown SOP "${name}"`);
    return {
      sop: definitionView(loaded.definition),
      definition_hash: loaded.hash,
      plan: runner.plan(name),
      status: statusView(await runner.getStatus(name)),
    };
  });

  // A POST only because the variables are JSON, as in /sop/execute: nothing runs.
  api.post<{ Body: PlanBody }>("/sop/plan", { schema: { body: planBody } }, (req) => {
    const { sop, vars } = req.body;
    const loaded = runner.sop(sop);
    if (!loaded) throw new SopError("unknown_sop", `unknown SOP "${sop}"`);
    const d = loaded.definition;
    return { sop: { name: d.name, version: d.version, priority: d.priority, execution_mode: d.executionMode }, plan: runner.plan(sop, vars ?? {}) };
  });

  // History a page at a time, newest first: `next_cursor` asks for the page after (null after the
  // last). No `total`: counting every matching run is what paging is there to avoid.
  api.get<{ Querystring: RunsQuery }>("/runs", { schema: { querystring: runsQuery } }, async (req) => {
    const { sop, status, cursor } = req.query;
    const limit = Number(req.query.limit ?? 100);
    const statuses = status?.split(",");
    const unknown = statuses?.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s)) ?? [];
    if (unknown.length) throw new SopError("invalid", `unknown status ${unknown.map((s) => `"${s}"`).join(", ")}; one of ${RUN_STATUSES.join(", ")}`);
    const page = await runner.history({
      limit, ...(sop ? { sop } : {}), ...(statuses ? { statuses: statuses as RunStatus[] } : {}), ...(cursor ? { cursor } : {}),
    });
    return { runs: page.runs.map(runBrief), next_cursor: page.next ?? null };
  });

  api.get<{ Params: { id: string } }>("/runs/:id", { schema: { params: idParams } }, async (req) => runner.record(req.params.id));

  // Why a run has not started: the engine's verdict (behind people, or only behind a slot about to
  // free) and what holds its SOP's slots, so a client never restates the rule from a status.
  api.get<{ Params: { id: string } }>("/runs/:id/queue", { schema: { params: idParams } }, async (req) => {
    const { id } = req.params;
    const { behindPeople, block } = await runner.queueState(id);
    return {
      behind_people: behindPeople,
      start_block: block ? { max_concurrent: block.maxConcurrent, holders: block.holders.map(runBrief) } : null,
    };
  });
}
