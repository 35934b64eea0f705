/**
 * The forms that change something: start a run, decide a checkpoint, cancel. Each passes the
 * signed-in actor to the runner and shows the engine's answer, refusals included, as a flash on
 * the next page (post/redirect/get), so reloading never repeats a decision.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { SopError } from "../../app/sop-error.ts";
import type { VarValue } from "../../core/sop/types.ts";
import { holdDecision } from "./decision-checks.ts";
import { field, fieldNames } from "./form.ts";
import { seg } from "./html.ts";
import { VAR_PREFIX } from "./pages/run-form.ts";
import { RUN_ID, SOP_NAME, type WebContext } from "./web-context.ts";

/** The message a redirect leaves for the next page. */
type Flash = NonNullable<Parameters<WebContext["redirect"]>[3]>;

/** Variable names as conditions can name them (SPEC §2.3). */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** Form fields → execute-time vars: changed defaults and the extra `name=value` lines. */
export function formVars(body: unknown, defaults: Readonly<Record<string, VarValue>>): Record<string, VarValue> {
  const vars: Record<string, VarValue> = {};
  for (const key of fieldNames(body)) {
    if (!key.startsWith(VAR_PREFIX)) continue;
    const name = key.slice(VAR_PREFIX.length);
    const value = field(body, key);
    // An unchanged default is left out, so it keeps its TOML type (number, boolean).
    if (value === undefined || !VAR_NAME.test(name) || (Object.hasOwn(defaults, name) && String(defaults[name]) === value)) continue;
    vars[name] = value;
  }
  for (const [i, raw] of (field(body, "extra") ?? "").split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const eq = line.indexOf("=");
    const name = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!VAR_NAME.test(name)) throw new SopError("invalid", `line ${i + 1} of "More variables" is not name=value: ${line.slice(0, 60)}`);
    vars[name] = line.slice(eq + 1).trim();
  }
  return vars;
}

/** A refusal from the engine is the person's answer; anything else is a bug, logged. */
function failure(ctx: WebContext, err: unknown, what: string): { kind: "error"; text: string } {
  if (err instanceof SopError) return { kind: "error", text: err.message };
  ctx.log.error({ err }, `web UI: ${what} failed`);
  return { kind: "error", text: `${what} failed on the server; it is in the log.` };
}

async function runOf(ctx: WebContext, request: FastifyRequest, reply: FastifyReply) {
  const { id } = request.params as { id: string };
  const stored = RUN_ID.test(id) ? await ctx.runner.run(id) : undefined;
  if (!stored) await ctx.notFound(request, reply, `There is no run ${id}.`);
  return stored?.run;
}

export function registerActionRoutes(scope: FastifyInstance, ctx: WebContext): void {
  const { runner } = ctx;

  scope.post("/sops/:name/run", async (request, reply) => {
    const { name } = request.params as { name: string };
    const loaded = SOP_NAME.test(name) ? runner.sop(name) : undefined;
    if (!loaded) return ctx.notFound(request, reply, `There is no SOP named ${name}.`);
    // The try covers the engine's work; the redirect (a thenable reply) is sent after it, once.
    let next: { to: string; flash: Flash };
    try {
      const vars = formVars(request.body, loaded.definition.vars);
      // "Start anyway" (shown to admins during a cooldown); the engine refuses it to anyone else.
      const force = field(request.body, "force") === "yes";
      const record = await runner.execute(name, { vars, actor: ctx.actor(request), wait: false, trigger: { type: "manual", source: "web" }, ...(force ? { force } : {}) });
      const text = record.cooldown_forced_by
        ? `Started ${name} during its cooldown, run ${record.run_id}; the audit record says ${record.cooldown_forced_by} forced it.`
        : `Started ${name}, run ${record.run_id}.`;
      next = { to: `/runs/${seg(record.run_id)}`, flash: { kind: "ok", text } };
    } catch (err) {
      next = { to: `/sops/${seg(name)}`, flash: failure(ctx, err, `starting ${name}`) };
    }
    return ctx.redirect(request, reply, next.to, next.flash);
  });

  scope.post("/runs/:id/decide", async (request, reply) => {
    const run = await runOf(ctx, request, reply);
    if (!run) return reply;
    const body = request.body;
    const decision = field(body, "decision");
    const back = field(body, "back") === "approvals" ? "/approvals" : `/runs/${seg(run.id)}`;
    if (decision !== "approve" && decision !== "deny") return ctx.redirect(request, reply, back, { kind: "error", text: "Choose approve or deny." });
    const checkpoint = field(body, "checkpoint");
    const text = field(body, decision === "approve" ? "comment" : "reason")?.trim();
    if (await holdDecision(ctx, request, reply, run.id, { decision, checkpoint, text, back: field(body, "back"), confirmed: field(body, "confirmed") === "yes" })) return reply;
    const opts = {
      runId: run.id, actor: ctx.actor(request),
      ...(checkpoint ? { checkpoint } : {}),
      ...(text ? (decision === "approve" ? { comment: text } : { reason: text }) : {}),
    };
    let flash: Flash;
    try {
      const { message } = decision === "approve" ? await runner.approve(run.sop, opts) : await runner.deny(run.sop, opts);
      flash = { kind: "ok", text: message };
    } catch (err) {
      flash = failure(ctx, err, `${decision} on run ${run.id}`);
    }
    return ctx.redirect(request, reply, back, flash);
  });

  scope.post("/runs/:id/cancel", async (request, reply) => {
    const run = await runOf(ctx, request, reply);
    if (!run) return reply;
    let flash: Flash;
    try {
      const { message } = await runner.cancel(run.id, { actor: ctx.actor(request), reason: "cancelled from the web UI" });
      flash = { kind: "ok", text: message };
    } catch (err) {
      flash = failure(ctx, err, `cancelling run ${run.id}`);
    }
    return ctx.redirect(request, reply, `/runs/${seg(run.id)}`, flash);
  });
}
