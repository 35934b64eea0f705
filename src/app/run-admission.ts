/**
 * Every start a runner is asked for, accepted or refused, said once where it is decided
 * (`SopRunner.execute`, the one door for the API, web UI, chat, CLI, command triggers,
 * schedules and file watches). Metrics and the server log listen here instead of each way in
 * reporting for itself. Local to the process that was asked: with Redis, another process's
 * starts are its own to count.
 */
import type { TriggerInfo } from "../core/run/run-state.ts";
import type { SopErrorCode } from "./sop-error.ts";

export type RunAdmission = {
  sop: string;
  trigger: TriggerInfo["type"];
  /** Where the request came from: web, api, cli, slack, discord, library, schedule or file_watch. */
  via: string;
  actor: string;
} & ({ accepted: true; runId: string } | { accepted: false; code: SopErrorCode; message: string });

/**
 * Where a start came from, from a small fixed set (a metric label): for people and command
 * triggers, the source's platform (`slack:C123` → `slack`); for the others their type.
 */
export function viaOf(trigger: TriggerInfo): string {
  if (trigger.type === "schedule" || trigger.type === "file_watch") return trigger.type;
  const platform = trigger.source?.split(":", 1)[0];
  return platform && /^[a-z]{2,16}$/.test(platform) ? platform : "library";
}

export type AdmissionListener = (admission: RunAdmission) => void;

export class Admissions {
  private readonly listeners = new Set<AdmissionListener>();

  subscribe(listener: AdmissionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A listener that throws is its own problem, never the caller's start. */
  emit(admission: RunAdmission, onError: (err: unknown) => void): void {
    for (const listener of this.listeners) {
      try {
        listener(admission);
      } catch (err) {
        onError(err);
      }
    }
  }
}
