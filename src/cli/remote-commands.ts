/**
 * run / approve / deny / cancel / status / trigger / list against a running `sop serve`, with the
 * same output and exit codes as in-process. Decisions return at once over HTTP, so the CLI polls
 * the run until it ends or waits for a person again.
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { isAtRest } from "../core/run/run-state.ts";
import type { Trigger } from "../core/sop/types.ts";
import type { CommandTriggerResult } from "../http/api/command-trigger.ts";
import { EXIT, type CliContext } from "./cli-context.ts";
import { describeTrigger } from "../core/sop/describe-trigger.ts";
import { ApiError, type ServerClient } from "./http-client.ts";
import type { RunFlags } from "./commands/run.ts";
import { askAtGate } from "./gate-prompt.ts";
import { printStepOutput } from "./progress.ts";
import { exitForStatus, printRecord, printRunStatus } from "./run-exit.ts";
import { RUN_ID_SHAPE } from "../core/names.ts";
import type { SopMetrics } from "../app/sop-status.ts";
import { printSopStatus } from "./sop-status-view.ts";

const POLL_MS = 250;

type Decision = { message: string; run: AuditRecord };

/** Exit codes of SPEC §5.2 for what the server refused. */
function refused(ctx: CliContext, err: unknown): number {
  if (!(err instanceof ApiError)) throw err;
  if (ctx.json) ctx.out(JSON.stringify({ error: err.message, code: err.code, ...err.body }));
  else ctx.err(ctx.color.red(err.message));
  if (err.body.runs && !ctx.json) for (const r of err.body.runs) ctx.err(`  ${r.id}  ${r.status}${r.waiting ? `  waiting at ${r.waiting}` : ""}`);
  if (err.status === 400) return EXIT.usage;
  return err.status >= 401 && err.status < 500 ? EXIT.refused : EXIT.runFailed;
}

/** Poll until the run ends or waits for a person, printing steps as they finish. */
async function untilAtRest(ctx: CliContext, client: ServerClient, first: AuditRecord): Promise<AuditRecord> {
  let record = first;
  const seen = new Map<number, string>(first.steps.map((s) => [s.number, s.status]));
  while (!isAtRest(record.status)) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    record = await client.get<AuditRecord>(`/api/runs/${encodeURIComponent(record.run_id)}`);
    for (const s of record.steps) {
      if (seen.get(s.number) === s.status) continue;
      seen.set(s.number, s.status);
      const name = `${s.number}. ${s.title}`;
      if (s.status === "success") ctx.err(`  ${ctx.color.green("✓")} ${name}`);
      else if (s.status === "failed") ctx.err(`  ${ctx.color.red("✗")} ${name} failed${s.reason ? `: ${s.reason}` : ""}`);
      if (s.status === "success" || s.status === "failed") printStepOutput(ctx, s.output);
      else if (s.status === "skipped") ctx.err(ctx.color.dim(`  – ${name} skipped${s.reason ? `: ${s.reason}` : ""}`));
      else if (s.status === "running") ctx.err(`  ${ctx.color.cyan("▶")} ${name}`);
    }
  }
  return record;
}

function finish(ctx: CliContext, record: AuditRecord): number {
  printRecord(ctx, record);
  return exitForStatus(record.status);
}

export async function remoteRun(ctx: CliContext, client: ServerClient, name: string, flags: RunFlags): Promise<number> {
  try {
    const body = { sop: name, vars: flags.vars, ...(flags.approveAll ? { skip_approval: true } : {}), ...(flags.force ? { force: true } : {}) };
    const started = await client.post<AuditRecord>("/api/sop/execute", body);
    if (!ctx.json) ctx.err(ctx.color.bold(`${started.sop} ${started.version} — run ${started.run_id} (on ${client.url})`));
    let record = await untilAtRest(ctx, client, started);
    // On a terminal, ask at each gate as in-process does.
    while (flags.interactive && exitForStatus(record.status) === EXIT.waiting) {
      const next = await askAtGate(ctx, record, async (decision, o) => {
        const { message, run } = await client.post<Decision>(`/api/sop/${decision}`, {
          sop: record.sop, run_id: o.runId, checkpoint: o.checkpoint, ...(o.reason ? { reason: o.reason } : {}),
        });
        return { message, record: await untilAtRest(ctx, client, run) };
      }, (err) => refused(ctx, err));
      if (!next) break;
      record = next;
    }
    return finish(ctx, record);
  } catch (err) {
    return refused(ctx, err);
  }
}

export async function remoteDecide(
  ctx: CliContext, client: ServerClient, decision: "approve" | "deny", name: string, runId: string | undefined, text: string | undefined,
): Promise<number> {
  try {
    const body = { sop: name, ...(runId ? { run_id: runId } : {}), ...(text !== undefined ? (decision === "approve" ? { comment: text } : { reason: text }) : {}) };
    const { message, run } = await client.post<Decision>(`/api/sop/${decision}`, body);
    if (!ctx.json) ctx.err(message);
    return finish(ctx, await untilAtRest(ctx, client, run));
  } catch (err) {
    return refused(ctx, err);
  }
}

export async function remoteCancel(ctx: CliContext, client: ServerClient, ref: string): Promise<number> {
  try {
    const { message, run } = await client.post<Decision>("/api/sop/cancel", RUN_ID_SHAPE.test(ref) ? { run_id: ref } : { sop: ref });
    if (ctx.json) ctx.out(JSON.stringify(run, null, 2));
    else ctx.out(message);
    return EXIT.ok;
  } catch (err) {
    return refused(ctx, err);
  }
}

interface SopView {
  status: {
    active: { run_id: string; status: string }[]; queued: { run_id: string }[]; last: { run_id: string; status: string } | null;
    cooldown_remaining_secs: number; metrics: SopMetrics;
  };
}

export async function remoteStatus(ctx: CliContext, client: ServerClient, ref: string): Promise<number> {
  try {
    const record = await client.get<AuditRecord>(`/api/runs/${encodeURIComponent(ref)}`).catch((err: unknown) => {
      if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return undefined;
      throw err;
    });
    if (record) {
      return printRunStatus(ctx, record);
    }
    const { status: s } = await client.get<SopView>(`/api/sops/${encodeURIComponent(ref)}`);
    printSopStatus(ctx, {
      sop: ref, active: s.active.map((r) => ({ id: r.run_id, status: r.status })), queued: s.queued.map((r) => ({ id: r.run_id })),
      last: s.last ? { id: s.last.run_id, status: s.last.status } : null, cooldown_remaining_secs: s.cooldown_remaining_secs, metrics: s.metrics,
    });
    return EXIT.ok;
  } catch (err) {
    return refused(ctx, err);
  }
}

export async function remoteTrigger(ctx: CliContext, client: ServerClient, text: string): Promise<number> {
  try {
    const { results } = await client.post<{ results: CommandTriggerResult[] }>("/api/sop/trigger", { text });
    if (results.length === 0) {
      ctx.err(`no command trigger matches "${text}"`);
      return EXIT.refused;
    }
    let code: number = EXIT.ok;
    const out: unknown[] = [];
    for (const r of results) {
      if (r.status === "refused") {
        if (!ctx.json) ctx.err(`${r.sop}: ${r.error}`);
        out.push({ sop: r.sop, error: r.error, code: r.code });
        code = Math.max(code, EXIT.refused);
        continue;
      }
      const record = await untilAtRest(ctx, client, r.run);
      out.push(record);
      if (!ctx.json) printRecord(ctx, record);
      code = Math.max(code, exitForStatus(record.status));
    }
    if (ctx.json) ctx.out(JSON.stringify(out, null, 2));
    return code;
  } catch (err) {
    return refused(ctx, err);
  }
}

interface ListedSop { name: string; description: string; priority: string; execution_mode: string; triggers: Trigger[] }

export async function remoteList(ctx: CliContext, client: ServerClient): Promise<number> {
  try {
    const { sops } = await client.get<{ sops: ListedSop[] }>("/api/sops");
    if (ctx.json) ctx.out(JSON.stringify(sops, null, 2));
    else {
      const width = Math.max(4, ...sops.map((s) => s.name.length));
      for (const s of sops) {
        const triggers = s.triggers.filter((t) => t.type !== "manual").map(describeTrigger).join(", ");
        ctx.out(`${ctx.color.bold(s.name.padEnd(width))}  ${s.priority.padEnd(8)} ${s.execution_mode.padEnd(14)} ${s.description}${triggers ? ctx.color.dim(`  [${triggers}]`) : ""}`);
      }
      if (sops.length === 0) ctx.out(`no SOPs on ${client.url}`);
    }
    return EXIT.ok;
  } catch (err) {
    return refused(ctx, err);
  }
}
