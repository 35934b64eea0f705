/**
 * What a button is bound to: the decision, the run and the checkpoint it asks about. A click
 * decides exactly that checkpoint of exactly that run (which pinned its definition), never
 * whatever waits at the time of the click. Discord allows 100 characters: a checkpoint whose
 * id would not fit (a gate named after a long step title) is named by its place in the run,
 * `#2`, which never changes either.
 */
export type ButtonAction = "approve" | "deny";

export interface ButtonTarget {
  action: ButtonAction;
  runId: string;
  /** Absent only on buttons of an earlier version: then the run's pending checkpoint at the click. */
  checkpoint?: string;
}

export const MAX_BUTTON_ID = 100;

const PREFIX = "sop";

/** `index` is the checkpoint's place in the run, used when its id would make the button id too long. */
export function buttonId(t: ButtonTarget, index?: number): string {
  const id = [PREFIX, t.action, t.runId, t.checkpoint ?? ""].join("|");
  if (id.length <= MAX_BUTTON_ID || index === undefined) return id;
  return [PREFIX, t.action, t.runId, `#${index}`].join("|");
}

export function parseButtonId(id: string): ButtonTarget | undefined {
  const parts = id.split("|");
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const [, action, runId, checkpoint] = parts as [string, string, string, string];
  if ((action !== "approve" && action !== "deny") || runId === "") return undefined;
  return { action, runId, ...(checkpoint ? { checkpoint } : {}) };
}
