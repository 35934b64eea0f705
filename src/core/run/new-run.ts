import type { SopDefinition, VarValue } from "../sop/types.ts";
import type { RunState, TriggerInfo } from "./run-state.ts";

export interface NewRunOptions {
  id: string;
  definitionHash: string;
  trigger: TriggerInfo;
  requestedBy: string;
  /** Trigger captures and execute-time vars, later ones winning; `[vars]` defaults come first. */
  vars: Record<string, VarValue>;
  bypassedBy?: string;
  cooldownForcedBy?: string;
  now: number;
}

export function newRun(def: SopDefinition, opts: NewRunOptions): RunState {
  const run: RunState = {
    id: opts.id,
    sop: def.name,
    version: def.version,
    definitionHash: opts.definitionHash,
    priority: def.priority,
    executionMode: def.executionMode,
    status: "queued",
    trigger: opts.trigger,
    requestedBy: opts.requestedBy,
    inputVars: { ...def.vars, ...opts.vars },
    outputVars: {},
    queuedAt: opts.now,
    steps: def.steps.map((s) => ({
      number: s.number, title: s.title, slug: s.slug, status: "pending", output: "", commandIndex: 0, attempt: 0,
    })),
    checkpoints: [],
    verifications: [],
    revision: 0,
  };
  if (opts.bypassedBy !== undefined) run.bypassedBy = opts.bypassedBy;
  if (opts.cooldownForcedBy !== undefined) run.cooldownForcedBy = opts.cooldownForcedBy;
  return run;
}
