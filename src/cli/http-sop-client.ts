/**
 * The SopClient behind a running `sop serve`, over its API (SPEC §5.3). Decisions and starts
 * answer at once there, so `follow` polls the run until it ends or waits for a person again.
 */
import type { SopMetrics } from "../app/sop-status.ts";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { RUN_ID_SHAPE } from "../core/names.ts";
import type { Plan } from "../core/plan/plan-run.ts";
import { isAtRest } from "../core/run/run-state.ts";
import type { Diagnostic, VarValue } from "../core/sop/types.ts";
import type { CommandTriggerResult } from "../http/api/command-trigger.ts";
import type { ServerClient } from "./http-client.ts";
import {
  Refusal, type DecisionTarget, type PlanAnswer, type SopClient, type SopListing, type StatusAnswer, type TriggerOutcome,
} from "./sop-client.ts";

const POLL_MS = 250;

interface RunBrief { run_id: string; status: string }
interface SopView {
  status: { active: RunBrief[]; queued: RunBrief[]; last: RunBrief | null; cooldown_remaining_secs: number; metrics: SopMetrics };
}
type Decided = { message: string; run: AuditRecord };

const path = (s: string): string => encodeURIComponent(s);

export class HttpSopClient implements SopClient {
  readonly where: string;

  constructor(private readonly server: ServerClient) {
    this.where = `the server at ${server.url}`;
  }

  async list() {
    const { sops, diagnostics } = await this.server.get<{ sops: SopListing[]; diagnostics: (Diagnostic & { text: string })[] }>("/api/sops");
    return {
      // The API adds each SOP's status; `sop list` shows the definitions, as in-process.
      sops: sops.map((s): SopListing => ({
        name: s.name, description: s.description, version: s.version, priority: s.priority, execution_mode: s.execution_mode,
        cooldown_secs: s.cooldown_secs, max_concurrent: s.max_concurrent, triggers: s.triggers, steps: s.steps,
      })),
      broken: diagnostics.filter((d) => d.severity === "error").map((d) => d.text),
    };
  }

  async plan(name: string, vars: Record<string, VarValue>): Promise<PlanAnswer> {
    const answer = await this.server.post<{ sop: { version: string; priority: string; execution_mode: string }; plan: Plan }>("/api/sop/plan", { sop: name, vars });
    return { version: answer.sop.version, priority: answer.sop.priority, execution_mode: answer.sop.execution_mode, plan: answer.plan };
  }

  async status(ref: string): Promise<StatusAnswer> {
    // As in-process: a run by that id, else an SOP by that name.
    const record = await this.server.get<AuditRecord>(`/api/runs/${path(ref)}`).catch((err: unknown) => {
      if (err instanceof Refusal && (err.code === "unknown_run" || err.exit === 2)) return undefined;
      throw err;
    });
    if (record) return { kind: "run", record, interrupted: [] };
    const { status: s } = await this.server.get<SopView>(`/api/sops/${path(ref)}`);
    return {
      kind: "sop",
      status: {
        sop: ref, active: s.active.map((r) => ({ id: r.run_id, status: r.status })), queued: s.queued.map((r) => ({ id: r.run_id })),
        last: s.last ? { id: s.last.run_id, status: s.last.status } : null, cooldown_remaining_secs: s.cooldown_remaining_secs, metrics: s.metrics,
      },
      interrupted: [],
    };
  }

  execute(name: string, opts: { vars: Record<string, VarValue>; approveAll: boolean; force: boolean }): Promise<AuditRecord> {
    return this.server.post<AuditRecord>("/api/sop/execute", {
      sop: name, vars: opts.vars, ...(opts.approveAll ? { skip_approval: true } : {}), ...(opts.force ? { force: true } : {}),
    });
  }

  async decide(decision: "approve" | "deny", target: DecisionTarget, opts: { checkpoint?: string; text?: string }) {
    // The API names the SOP; by run id alone, ask the run which SOP it is of.
    const sop = target.sop ?? (await this.server.get<AuditRecord>(`/api/runs/${path(target.runId ?? "")}`)).sop;
    const { message, run } = await this.server.post<Decided>(`/api/sop/${decision}`, {
      sop, ...(target.runId !== undefined ? { run_id: target.runId } : {}),
      ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}),
      ...(opts.text !== undefined ? (decision === "approve" ? { comment: opts.text } : { reason: opts.text }) : {}),
    });
    return { message, record: run };
  }

  async cancel(ref: string) {
    const { message, run } = await this.server.post<Decided>("/api/sop/cancel", RUN_ID_SHAPE.test(ref) ? { run_id: ref } : { sop: ref });
    return { message, record: run };
  }

  async trigger(text: string): Promise<TriggerOutcome[]> {
    const { results } = await this.server.post<{ results: CommandTriggerResult[] }>("/api/sop/trigger", { text });
    return results.map((r): TriggerOutcome => (r.status === "started"
      ? { sop: r.sop, record: r.run }
      : { sop: r.sop, refusal: new Refusal(r.code, r.error, r.retry_after_secs !== undefined ? { retry_after_secs: r.retry_after_secs } : {}) }));
  }

  async follow(runId: string, onUpdate: (record: AuditRecord) => void): Promise<AuditRecord> {
    for (;;) {
      const record = await this.server.get<AuditRecord>(`/api/runs/${path(runId)}`);
      onUpdate(record);
      if (isAtRest(record.status)) return record;
      if (record.status === "queued" && (await this.server.get<{ behind_people: boolean }>(`/api/runs/${path(runId)}/queue`)).behind_people) return record;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
