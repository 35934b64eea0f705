/**
 * The SopClient in this process: a SopRunner over DATA_DIR (or Redis) for the length of one
 * command. `sop list` and `sop plan` need no runner: they read the SOP folder, as `validate` does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatDiagnostic, loadSopFolder, loadSops } from "../app/load-sops.ts";
import { SopError } from "../app/sop-error.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { SOP_NAME } from "../core/names.ts";
import type { VarValue } from "../core/sop/types.ts";
import {
  Refusal, type DecisionTarget, type PlanAnswer, type SopClient, type SopListing, type StatusAnswer, type TriggerOutcome,
} from "./sop-client.ts";

export interface LocalClientOptions {
  sopsDir: string;
  /** Absent for `list` and `plan`, which read the folder only. */
  runner?: SopRunner;
  /** Read-only look at a DATA_DIR no process holds: whatever says "running" was interrupted. */
  idle?: boolean;
}

/** The engine's refusals as the client's. */
function refusal(err: unknown): never {
  if (!(err instanceof SopError)) throw err;
  const { runs, retryAfterSecs } = err.details;
  throw new Refusal(err.code, err.message, {
    ...(runs ? { runs } : {}), ...(retryAfterSecs !== undefined ? { retry_after_secs: retryAfterSecs } : {}),
  }, err.code === "invalid" ? 2 : 4);
}

async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    return refusal(err);
  }
}

export class LocalSopClient implements SopClient {
  readonly where: string;

  constructor(private readonly opts: LocalClientOptions) {
    this.where = opts.sopsDir;
  }

  private get runner(): SopRunner {
    // A command that needs runs was wired without a runner: a bug in main.ts, not the user's.
    if (!this.opts.runner) throw new Error("this sop command was started without a runner");
    return this.opts.runner;
  }

  async list() {
    const { sops, diagnostics } = await loadSops(this.opts.sopsDir);
    return {
      sops: sops.map(({ definition: d }): SopListing => ({
        name: d.name, description: d.description, version: d.version, priority: d.priority,
        execution_mode: d.executionMode, cooldown_secs: d.cooldownSecs, max_concurrent: d.maxConcurrent,
        triggers: d.triggers, steps: d.steps.length,
      })),
      broken: diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic),
    };
  }

  async plan(name: string, vars: Record<string, VarValue>): Promise<PlanAnswer> {
    const dir = join(this.opts.sopsDir, name);
    if (!SOP_NAME.test(name) || !existsSync(dir)) throw new Refusal("unknown_sop", `unknown SOP "${name}" in ${this.opts.sopsDir}; sop list shows the SOPs there`);
    const { sop, diagnostics } = await loadSopFolder(dir, name);
    if (!sop) throw new Refusal("invalid", [...diagnostics.map(formatDiagnostic), `${name} is not valid; fix the errors above`].join("\n"), {}, 2);
    const d = sop.definition;
    // Only `sop plan` needs the state machine the plan plays through; `sop list` loads none of it.
    const { planRun } = await import("../core/plan/plan-run.ts");
    return { version: d.version, priority: d.priority, execution_mode: d.executionMode, plan: planRun(d, vars) };
  }

  status(ref: string): Promise<StatusAnswer> {
    return refusing(async () => {
      const { runner } = this;
      if (await runner.run(ref)) {
        const record = await runner.record(ref);
        return { kind: "run", record, interrupted: this.opts.idle && record.status === "running" ? [ref] : [] };
      }
      const s = await runner.getStatus(ref);
      return {
        kind: "sop",
        status: {
          sop: s.sop, active: s.active.map((r) => ({ id: r.id, status: r.status })), queued: s.queued.map((r) => ({ id: r.id })),
          last: s.last ? { id: s.last.id, status: s.last.status } : null,
          cooldown_remaining_secs: s.cooldown_remaining_secs, metrics: s.metrics,
        },
        interrupted: this.opts.idle ? s.active.filter((r) => r.status === "running").map((r) => r.id) : [],
      };
    });
  }

  execute(name: string, opts: { vars: Record<string, VarValue>; approveAll: boolean; force: boolean }): Promise<AuditRecord> {
    return refusing(() => this.runner.execute(name, {
      vars: opts.vars, skipApproval: opts.approveAll, force: opts.force, trigger: { type: "manual", source: "cli" }, wait: false,
    }));
  }

  decide(decision: "approve" | "deny", target: DecisionTarget, opts: { checkpoint?: string; text?: string }) {
    const o = {
      ...(opts.checkpoint !== undefined ? { checkpoint: opts.checkpoint } : {}),
      ...(opts.text !== undefined ? (decision === "approve" ? { comment: opts.text } : { reason: opts.text }) : {}),
    };
    return refusing(() => (decision === "approve" ? this.runner.approve(target, o) : this.runner.deny(target, o)));
  }

  cancel(ref: string) {
    return refusing(() => this.runner.cancel(ref));
  }

  async trigger(text: string): Promise<TriggerOutcome[]> {
    const results = await refusing(() => this.runner.trigger(text, { source: "cli", wait: false }));
    return results.map((r) => {
      if (r.record) return { sop: r.sop, record: r.record };
      try {
        return refusal(r.error);
      } catch (err) {
        return { sop: r.sop, refusal: err as Refusal };
      }
    });
  }

  async follow(runId: string, onUpdate: (record: AuditRecord) => void): Promise<AuditRecord> {
    // The runner tells each version it looks at; the final one (after pending audit writes) too.
    const record = await refusing(() => this.runner.follow(runId, onUpdate));
    onUpdate(record);
    return record;
  }
}
