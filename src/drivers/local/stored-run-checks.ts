import { RUN_STATUSES } from "../../core/run/run-state.ts";
import { PRIORITIES } from "../../core/sop/types.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { ChainHead, StoredRun } from "../../ports/run-store.ts";

/** Ids and SOP names become file names: refuse a slash, or a leading dot (temp files are dotted). */
export function assertFileName(what: string, value: string): void {
  if (value === "" || value.startsWith(".") || /[/\\\0]/.test(value)) {
    throw new RangeError(`the local run store cannot keep ${what} ${JSON.stringify(value)}: it is not a valid file name`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

/**
 * A run file's content as a `StoredRun`, or why not. Checks what the store itself relies on
 * (file name, indexes, chain); the rest of the state is the engine's business.
 */
export function checkRun(value: unknown, fileName: string): (StoredRun & { record?: AuditRecord }) | string {
  if (!isRecord(value) || !isRecord(value.run)) return "no run object";
  const { run, seal } = value;
  if (typeof run.id !== "string" || run.id === "") return "run.id is missing";
  if (`${run.id}.json` !== fileName) return `it holds run ${run.id}, not the run its name says`;
  if (typeof run.sop !== "string") return "run.sop is missing";
  if (!(RUN_STATUSES as readonly unknown[]).includes(run.status)) return `run.status ${JSON.stringify(run.status)} is not a run status`;
  if (!(PRIORITIES as readonly unknown[]).includes(run.priority)) return `run.priority ${JSON.stringify(run.priority)} is not a priority`;
  if (!isCount(run.queuedAt) || !isCount(run.revision)) return "run.queuedAt or run.revision is not a number";
  if (seal !== undefined && (!isRecord(seal) || !isCount(seal.seq) || typeof seal.hash !== "string" || typeof seal.prevHash !== "string")) {
    return "seal is not { seq, prevHash, hash }";
  }
  if (value.record !== undefined && (!isRecord(value.record) || value.record.hash !== seal?.hash)) return "record is not the sealed record of the run";
  return value as unknown as StoredRun & { record?: AuditRecord };
}

/** A chain head file's content, or why not. */
export function checkHead(value: unknown): ChainHead | string {
  if (!isRecord(value) || !isCount(value.seq) || typeof value.hash !== "string") return "not { seq, hash }";
  const head: ChainHead = { seq: value.seq as number, hash: value.hash };
  if (typeof value.runId === "string") head.runId = value.runId;
  return head;
}
