/**
 * One info line per thing that happens to a run, for the server's log: accepted, started,
 * waiting (which gate, who may decide), decided (who), refused decisions, finished (status,
 * duration), and refused starts (which have no run) from the runner's admissions. With Redis
 * every process hears every run, so each server's log tells the whole story.
 */
import { duration } from "../core/format.ts";
import type { RunEvent } from "../core/run/effects.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { RunStore } from "../ports/run-store.ts";
import type { Logger } from "./logger.ts";
import type { AdmissionListener } from "./run-admission.ts";

/**
 * One line for each start refused, with why, however it was asked for. A trigger's refusal is a
 * warning: nobody is there to be told, and a schedule that is always refused needs a look.
 */
export function logRefusals(log: Logger): AdmissionListener {
  return (a) => {
    if (a.accepted) return;
    const fields = { sop: a.sop, actor: a.actor, code: a.code, via: a.via, trigger: a.trigger };
    if (a.trigger === "manual") log.info(fields, `run of ${a.sop} refused for ${a.actor}: ${a.message}`);
    else log.warn(fields, `${a.trigger} trigger of ${a.sop} refused: ${a.message}`);
  };
}

export function logRunActivity(events: EventBus, store: RunStore, log: Logger): () => void {
  // One line after another, in the order the events came, although each may read the store.
  let previous: Promise<void> = Promise.resolve();
  return events.subscribe((event) => {
    previous = previous.then(() => logEvent(event, store, log)).catch((err: unknown) => log.debug({ err, runId: event.runId }, "run log: cannot read the run"));
  });
}

async function logEvent(event: RunEvent, store: RunStore, log: Logger): Promise<void> {
  const at = { runId: event.runId, sop: event.sop };
  const run = `run ${event.runId} of ${event.sop}`;
  switch (event.type) {
    case "run_queued": {
      // The event says it all (an earlier version's did not: then the run is read).
      const told = event.requestedBy !== undefined && event.trigger !== undefined
        ? { requestedBy: event.requestedBy, trigger: { type: event.trigger, source: event.source }, cooldownForcedBy: event.cooldownForcedBy }
        : (await store.get(event.runId))?.run;
      if (!told) return;
      const { trigger, requestedBy, cooldownForcedBy } = told;
      const how = [trigger.type, trigger.source].filter(Boolean).join(" from ");
      log.info({ ...at, requestedBy, trigger: trigger.type }, `${run} accepted: ${how}, requested by ${requestedBy}${cooldownForcedBy ? `, forced past the cooldown by ${cooldownForcedBy}` : ""}`);
      return;
    }
    case "run_started":
      log.info(at, `${run} started`);
      return;
    case "approval_requested":
    case "manual_requested": {
      if (event.type === "approval_requested" && event.status === "notified") {
        log.info({ ...at, gate: event.checkpoint }, `${run}: ${event.checkpoint} announced (approval not required)`);
        return;
      }
      const cp = (await store.get(event.runId))?.run.checkpoints.find((c) => c.id === event.checkpoint);
      if (!cp) return;
      const who = cp.approvers.length > 0 ? cp.approvers.join(", ") : "anyone who may use the bot";
      const what = cp.kind === "manual" ? "waits for a person to mark it Done or Failed" : `waits for ${cp.minApprovals > 1 ? `${cp.minApprovals} approvals` : "approval"}`;
      log.info({ ...at, gate: cp.id, approvers: cp.approvers }, `${run} ${what} at ${cp.id} (${cp.reason}); who may decide: ${who}`);
      return;
    }
    case "approval_decided":
    case "manual_done":
      log.info({ ...at, gate: event.checkpoint, decision: event.status, by: event.by }, `${run}: ${event.checkpoint} ${event.status}${event.by ? ` by ${event.by}` : ""}`);
      return;
    case "approval_refused":
      log.info({ ...at, gate: event.checkpoint, by: event.by }, `${run}: ${event.by} was refused on ${event.checkpoint} (recorded in the audit)`);
      return;
    case "run_finished": {
      // The event says it all (an earlier version's did not: then the run is read).
      const r = event.queuedAt !== undefined || event.startedAt !== undefined ? { startedAt: event.startedAt, completedAt: event.at, endReason: event.endReason } : (await store.get(event.runId))?.run;
      const took = r?.startedAt !== undefined && r.completedAt !== undefined ? ` in ${duration(r.completedAt - r.startedAt)}` : "";
      log.info({ ...at, status: event.status }, `${run} finished: ${event.status}${took}${r?.endReason ? ` (${r.endReason})` : ""}`);
      return;
    }
    case "step_started":
    case "step_finished":
      return;
  }
}
