/** Runs and helpers the driver contracts share. */
import { newRun } from "../../src/core/run/new-run.ts";
import { auditRecord } from "../../src/core/audit/audit-record.ts";
import type { RunState, RunStatus } from "../../src/core/run/run-state.ts";
import { DEFAULT_APPROVAL, type Priority, type SopDefinition } from "../../src/core/sop/types.ts";
import type { RunEnding, RunStore, StoredRun, UpdateOutcome } from "../../src/ports/run-store.ts";

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

export function storedRun(id: string, opts: { sop?: string; priority?: Priority; queuedAt?: number; maxConcurrent?: number } = {}): StoredRun {
  const def = { ...definition, name: opts.sop ?? "deploy", priority: opts.priority ?? "medium", maxConcurrent: opts.maxConcurrent ?? 1 };
  const run = newRun(def, {
    id, definitionHash: "a".repeat(64), trigger: { type: "manual", source: "cli" }, requestedBy: "local:alice",
    vars: {}, now: opts.queuedAt ?? 1_000,
  });
  return { run, definition: def, dir: `/sops/${def.name}` };
}

/** A seal and final record for `next`, linked to the chain head as the store has it now (hashes made up). */
export async function endingOf(store: RunStore, stored: StoredRun, next: RunState, hash = "b".repeat(64)): Promise<RunEnding> {
  const head = await store.chainHead(next.sop);
  const seal = { seq: head.seq + 1, prevHash: head.hash, hash };
  const record = { ...auditRecord(stored.definition, next, (t) => t), seq: seal.seq, prev_hash: seal.prevHash, hash };
  return { seal, record };
}

/** What the engine does to end a run: the new state with its seal; the outcome names who may start now. */
export async function endRun(store: RunStore, id: string, status: RunStatus = "success", hash?: string): Promise<UpdateOutcome> {
  const stored = (await store.get(id))!;
  const next = bumped(stored.run, { status, completedAt: 9_000 });
  return store.update(id, stored.run.revision, next, await endingOf(store, stored, next, hash));
}

/** What the engine does to start a run: queued → running, which takes a slot or is refused. */
export async function startRun(store: RunStore, id: string): Promise<boolean> {
  const run = (await store.get(id))!.run;
  return (await store.update(id, run.revision, bumped(run, { status: "running", startedAt: 1_500 }))).ok;
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
