/**
 * What a chat command, a button click or a channel message does, the same on Slack and Discord:
 * it calls the runner with the caller's identity and turns the outcome into a reply. Whether a
 * decision counts is the engine's call; a refusal comes back as its words, ephemeral.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "../app/logger.ts";
import type { ActorRef } from "../app/run-engine.ts";
import { SopError } from "../app/sop-error.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import type { AuditRecord } from "../core/audit/audit-record.ts";
import { duration, percent } from "../core/format.ts";
import type { Checkpoint, RunState } from "../core/run/run-state.ts";
import type { Plan } from "../core/plan/plan-run.ts";
import { describeTrigger } from "../core/sop/describe-trigger.ts";
import type { MessageLedger, Platform } from "../ports/message-ledger.ts";
import { buttonId, type ButtonTarget } from "./button-id.ts";
import { ephemeral, inChannel, message, type ChatButton, type ChatReply } from "./chat-message.ts";
import { RUN_ID_SHAPE } from "../core/names.ts";
import { USAGE, type ChatCommand } from "./command-text.ts";
import { shortId, type MessageContext } from "./run-messages.ts";

export interface ChatCaller {
  actor: ActorRef;
  /** Where it came from, for the audit: `slack:C0DEPLOYS`, `discord:998877` … */
  source: string;
}

export interface ChatActionsOptions {
  runner: SopRunner;
  /** Where a message another delivery already handled is told apart (shared by every bot process). */
  ledger: Pick<MessageLedger, "claim">;
  context: MessageContext;
  /** A run's messages may be stale (a click or command touched it): bring them up to date. */
  touched?: (runId: string) => void;
  /** Where a message trigger that failed unexpectedly is reported (its answer says only that it failed). */
  log?: Logger;
}

/** Longer than a platform goes on redelivering an event (Slack: three retries within minutes). */
const MESSAGE_CLAIM_MS = 10 * 60_000;

/** A checkpoint by its id, or by its place in the run (`#2`) when a button could not hold the id. */
function checkpointNamed(run: RunState, named: string): Checkpoint | undefined {
  return named.startsWith("#") ? run.checkpoints[Number(named.slice(1))] : run.checkpoints.find((c) => c.id === named);
}

function refusal(err: unknown): ChatReply {
  if (!(err instanceof SopError)) throw err;
  return ephemeral(message({ title: err.message, tone: "failure" }));
}

/** A plan as chat lists it: one line per step and per gate. */
function planLines(plan: Plan, title: string) {
  const icon = { run: "▶️", skip: "⏭️", approval: "⏳", manual: "✋" } as const;
  return message({
    title,
    lines: [
      ...plan.steps.map((s) => `${icon[s.decision]} ${s.number}. ${s.title} — ${s.reason}`),
      ...plan.gates.map((g) => `🚦 gate \`${g.name}\` — ${g.reason}`),
    ],
  });
}

export class ChatActions {
  constructor(private readonly o: ChatActionsOptions) {}

  async command(cmd: ChatCommand, caller: ChatCaller): Promise<ChatReply> {
    try {
      switch (cmd.kind) {
        case "approve":
        case "deny":
          return await this.decide(cmd.kind, { sop: cmd.sop, ...(cmd.runId ? { runId: cmd.runId } : {}) }, caller, cmd.text);
        case "help":
          return ephemeral(message({ title: "sop-runner commands", lines: USAGE }));
        case "list":
          return this.list();
        case "plan":
          return ephemeral(this.planMessage(cmd.sop, cmd.vars, `Plan of ${cmd.sop}`));
        case "run":
          return await this.start(cmd.sop, cmd.vars, caller);
        case "status":
          return await this.status(cmd.target);
        case "cancel":
          return await this.cancel(cmd.target, caller, cmd.reason);
        case "stats":
          return await this.stats(cmd.sop);
      }
    } catch (err) {
      return refusal(err);
    }
  }

  /** A click on Approve / Deny / Done / Failed, bound to its run and checkpoint. */
  async click(target: ButtonTarget, caller: ChatCaller, text?: string): Promise<ChatReply> {
    try {
      const checkpoint = await this.checkpointOf(target);
      return await this.decide(target.action, { runId: target.runId, ...(checkpoint ? { checkpoint } : {}) }, caller, text);
    } catch (err) {
      return refusal(err);
    } finally {
      // Whatever the outcome, the clicked message must show the run as it is (a stale button goes).
      this.o.touched?.(target.runId);
    }
  }

  /**
   * A message in a channel: the runs its `command` triggers started, or why not; undefined when
   * none matches, or when `once` names a message another delivery (a platform's retry, another
   * bot process) already handled.
   */
  async message(text: string, caller: ChatCaller, once?: { platform: Platform; id: string }): Promise<ChatReply | undefined> {
    try {
      return await this.startFromMessage(text, caller, once);
    } catch (err) {
      const cause = err instanceof Error ? err.message : String(err);
      const where = once ? `${once.platform.charAt(0).toUpperCase()}${once.platform.slice(1)}` : "chat";
      this.o.log?.error({ platform: once?.platform, err, source: caller.source }, `${where}: a message trigger failed: ${cause}`);
      // The answer is public and the cause may name paths or hosts: it stays in the log.
      return inChannel(message({ title: "❌ could not start: something went wrong in the bot", tone: "failure", lines: ["The bot's log has the details."] }));
    }
  }

  private async startFromMessage(text: string, caller: ChatCaller, once?: { platform: Platform; id: string }): Promise<ChatReply | undefined> {
    const { runner } = this.o;
    // Most chatter starts nothing and must not cost a claim (a Redis call) each.
    if (!runner.hasTrigger(text)) return undefined;
    if (once && !(await this.o.ledger.claim(once.platform, `message-${once.id}`, randomUUID(), MESSAGE_CLAIM_MS))) return undefined;
    const results = await runner.trigger(text, { actor: caller.actor, source: caller.source });
    if (results.length === 0) return undefined;
    const lines: string[] = [];
    let started = false;
    for (const r of results) {
      if (r.record) {
        started = true;
        lines.push(...(await this.accepted(r.record)));
      } else if (r.error) {
        lines.push(`❌ ${r.sop} refused: ${r.error.message}`);
      }
    }
    const [title = "", ...rest] = lines;
    return inChannel(message({ title, lines: rest, tone: started ? "info" : "failure" }));
  }

  /**
   * Before a Deny or Failed click asks for a reason: the checkpoint it would decide, when that
   * still waits and the caller may decide it. Undefined: send the click straight on, and the
   * engine says why it does not count (and records a refused attempt) without a form first.
   */
  async reasonWorthAsking(target: ButtonTarget, caller: ChatCaller): Promise<{ sop: string; runId: string; checkpoint: Checkpoint; button: string } | undefined> {
    const { runner } = this.o;
    const run = (await runner.run(target.runId))?.run;
    if (!run) return undefined;
    const named = target.checkpoint === undefined ? undefined : checkpointNamed(run, target.checkpoint)?.id;
    if (target.checkpoint !== undefined && named === undefined) return undefined;
    const cp = await runner.decidable(run.id, caller.actor, named);
    if (!cp) return undefined;
    // The form's answer is bound to this checkpoint: a "which run?" button names none, and by
    // the time the reason is typed another gate may be waiting.
    const button = buttonId({ action: target.action, runId: run.id, checkpoint: cp.id }, run.checkpoints.indexOf(cp));
    return { sop: run.sop, runId: run.id, checkpoint: cp, button };
  }

  private async checkpointOf(target: ButtonTarget): Promise<string | undefined> {
    if (!target.checkpoint?.startsWith("#")) return target.checkpoint;
    const stored = await this.o.runner.run(target.runId);
    if (!stored) throw new SopError("unknown_run", `unknown run ${target.runId}`);
    return checkpointNamed(stored.run, target.checkpoint)?.id ?? target.checkpoint;
  }

  private async decide(kind: "approve" | "deny", ref: { sop?: string; runId?: string; checkpoint?: string }, caller: ChatCaller, text?: string): Promise<ChatReply> {
    const { runner } = this.o;
    try {
      const target = { ...(ref.sop ? { sop: ref.sop } : {}), ...(ref.runId ? { runId: ref.runId } : {}) };
      const opts = { actor: caller.actor, ...(ref.checkpoint ? { checkpoint: ref.checkpoint } : {}) };
      const { message: said, record } = kind === "approve"
        ? await runner.approve(target, { ...opts, ...(text ? { comment: text } : {}) })
        : await runner.deny(target, { ...opts, ...(text ? { reason: text } : {}) });
      this.o.touched?.(record.run_id);
      const icon = kind === "approve" ? "✅" : "❌";
      return inChannel(message({ title: `${icon} ${caller.actor.id}: ${said}`, text: said, tone: kind === "approve" ? "success" : "failure", lines: text ? [`“${text}”`] : [] }));
    } catch (err) {
      if (err instanceof SopError && err.code === "ambiguous" && err.details.runs) return this.pickRun(kind, ref.sop ?? "", err);
      throw err;
    }
  }

  /**
   * Several runs wait: one button per run, each bound to that run and to the checkpoint it is
   * listed at, so a click after that one was decided decides nothing (never a later gate unseen).
   */
  private pickRun(kind: "approve" | "deny", sop: string, err: SopError): ChatReply {
    const runs = err.details.runs ?? [];
    const critical = kind === "approve" && this.o.runner.sop(sop)?.definition.priority === "critical";
    const buttons: ChatButton[] = runs.slice(0, 5).map((r) => ({
      id: buttonId({ action: kind, runId: r.id, ...(r.waiting ? { checkpoint: r.waiting } : {}) }, r.waitingIndex),
      label: `${kind === "approve" ? "Approve" : "Deny"} ${shortId(r.id)}`,
      style: kind === "approve" ? "primary" : "danger",
      // The same "are you sure?" as the request's own Approve button.
      ...(critical ? { confirm: { title: `Approve ${sop}?`, text: `${sop} is critical. Approve run ${shortId(r.id)}?`, yes: "Approve", no: "Cancel" } } : {}),
    }));
    return ephemeral(message({
      title: `${runs.length} runs of ${sop} are waiting; which one?`,
      lines: runs.map((r) => `\`${r.id}\` ${r.status.replace(/_/g, " ")}${r.waiting ? ` at \`${r.waiting}\`` : ""}`),
      buttons,
      tone: "waiting",
      footer: `or type /${kind} ${sop} RUN_ID`,
    }));
  }

  private list(): ChatReply {
    const sops = this.o.runner.list();
    if (sops.length === 0) return ephemeral(message({ title: "No SOPs are loaded" }));
    return ephemeral(message({
      title: `${sops.length} SOP${sops.length > 1 ? "s" : ""}`,
      lines: sops.map((s) => `\`${s.name}\` ${s.version} (${s.priority}) — ${s.description}${s.triggers.length ? ` · ${s.triggers.map(describeTrigger).join(", ")}` : ""}`),
    }));
  }

  private planMessage(sop: string, vars: Record<string, string>, title: string) {
    return planLines(this.o.runner.plan(sop, vars), title);
  }

  private async start(sop: string, vars: Record<string, string>, caller: ChatCaller): Promise<ChatReply> {
    const record = await this.o.runner.execute(sop, { vars, actor: caller.actor, trigger: { type: "manual", source: caller.source }, wait: false });
    const [title = "", ...lines] = await this.accepted(record);
    // Only to the caller: Slack shows an in-channel answer's command text to the channel, and
    // the variables typed may be secret. The run's progress message is the public trace.
    return ephemeral(message({ title, lines, tone: "info" }));
  }

  /** "Started …" (or queued behind the runs holding its slots), then what the run will do. */
  private async accepted(record: AuditRecord): Promise<string[]> {
    const { runner } = this.o;
    const block = await runner.startBlock(record.run_id);
    const queued = block
      ? ` — queued: max_concurrent = ${block.maxConcurrent} and ${block.holders.map((r) => shortId(r.id)).join(", ")} ${block.holders.length > 1 ? "are" : "is"} going`
      : "";
    const link = this.o.context.runUrl ? ` · ${this.o.context.runUrl(record.run_id)}` : "";
    const plan = planLines(await runner.forecast(record.run_id), "");
    return [`▶️ Started ${record.sop} ${record.version}, run ${shortId(record.run_id)}${queued}`, ...plan.lines, `run \`${record.run_id}\`${link}`];
  }
  private async status(target: string): Promise<ChatReply> {
    const { runner } = this.o;
    if (RUN_ID_SHAPE.test(target)) {
      const r = await runner.record(target);
      return ephemeral(message({
        title: `${r.sop} ${r.version} · run ${shortId(r.run_id)}: ${r.status.replace(/_/g, " ")}`,
        lines: [
          ...(r.end_reason ? [r.end_reason] : []),
          ...r.steps.map((s) => `${s.number}. ${s.title} — ${s.status.replace(/_/g, " ")}${s.reason ? ` (${s.reason})` : ""}`),
          ...r.approvals.map((a) => `\`${a.gate}\` ${a.decision}${a.by.length ? ` by ${a.by.join(", ")}` : ""}`),
        ],
      }));
    }
    const s = await runner.getStatus(target);
    const runLine = (r: { id: string; status: string; checkpoints: { id: string; status: string }[] }) => {
      const pending = r.checkpoints.find((c) => c.status === "pending");
      return `\`${r.id}\` ${r.status.replace(/_/g, " ")}${pending ? ` at \`${pending.id}\`` : ""}`;
    };
    return ephemeral(message({
      title: `${target}: ${s.active.length} going, ${s.queued.length} queued`,
      lines: [
        ...s.active.map(runLine),
        ...s.queued.map(runLine),
        s.last ? `last run: \`${s.last.id}\` ${s.last.status}${s.last.completedAt ? ` at ${new Date(s.last.completedAt).toISOString()}` : ""}` : "no run has ended yet",
        s.cooldown_remaining_secs > 0 ? `cooling down: ${s.cooldown_remaining_secs} s left` : "no cooldown",
        `${s.metrics.runs} runs ended, success ${percent(s.metrics.success_rate)}, duration p50 ${duration(s.metrics.duration_p50_ms) || "—"}`,
      ],
    }));
  }

  private async cancel(target: string, caller: ChatCaller, reason?: string): Promise<ChatReply> {
    const { message: said, record } = await this.o.runner.cancel(target, { actor: caller.actor, ...(reason ? { reason } : {}) });
    this.o.touched?.(record.run_id);
    return inChannel(message({ title: `⏹️ ${caller.actor.id}: ${said}`, tone: "neutral" }));
  }

  private async stats(sop?: string): Promise<ChatReply> {
    const { runner } = this.o;
    const names = sop !== undefined ? [sop] : runner.list().map((s) => s.name);
    const lines: string[] = [];
    for (const name of names) {
      // Unknown (neither loaded nor ever run) is refused here, with the runner's words.
      const m = (await runner.getStatus(name)).metrics;
      lines.push(`\`${name}\`: ${m.runs} runs ended, success ${percent(m.success_rate)}, duration p50 ${duration(m.duration_p50_ms) || "—"} / p95 ${duration(m.duration_p95_ms) || "—"}, approval wait p50 ${duration(m.approval_wait_p50_ms) || "—"}`);
    }
    return ephemeral(message({ title: sop ? `Stats of ${sop}` : "Stats", lines: lines.length ? lines : ["no SOPs"] }));
  }
}
