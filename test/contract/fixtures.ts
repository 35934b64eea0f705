/** Runs and helpers the driver contracts share. */
import { newRun } from "../../src/core/run/new-run.ts";
import type { RunState } from "../../src/core/run/run-state.ts";
import { DEFAULT_APPROVAL, type Priority, type SopDefinition } from "../../src/core/sop/types.ts";
import type { StoredRun } from "../../src/ports/run-store.ts";

export const GENESIS = "0".repeat(64);

export const definition: SopDefinition = {
  name: "deploy",
  description: "Deploy the app",
  version: "1.0.0",
  priority: "medium",
  executionMode: "automatic",
  cooldownSecs: 0,
  maxConcurrent: 1,
  workdir: ".",
  vars: { env: "staging" },
  secrets: [],
  approval: DEFAULT_APPROVAL,
  notify: { slack: [], discord: [] },
  triggers: [{ type: "manual" }],
  gates: [],
  steps: [
    {
      number: 1, title: "Build", slug: "build", description: "", commands: ["make"], shown: [],
      requiresApproval: false, manual: false, retries: 0, continueOnError: false, always: false, metadata: {}, line: 5,
    },
  ],
};

export function storedRun(id: string, opts: { sop?: string; priority?: Priority; queuedAt?: number } = {}): StoredRun {
  const def = { ...definition, name: opts.sop ?? "deploy", priority: opts.priority ?? "medium" };
  const run = newRun(def, {
    id, definitionHash: "a".repeat(64), trigger: { type: "manual", source: "cli" }, requestedBy: "local:alice",
    vars: {}, now: opts.queuedAt ?? 1_000,
  });
  return { run, definition: def, dir: `/sops/${def.name}`, holdsSlot: false };
}

export function bumped(run: RunState, change: Partial<RunState>): RunState {
  return { ...run, ...change, revision: run.revision + 1 };
}

export const admitNow = { cooldownSecs: 0, force: false, now: 1_000 };

/** Each test gets names no other test of the file used (a data folder, a key prefix). */
export function nameSource(label: string): () => string {
  let n = 0;
  return () => `${label}${++n}`;
}
