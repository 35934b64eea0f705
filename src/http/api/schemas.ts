/**
 * JSON schemas of the API's requests: names are checked before anything touches the store.
 * Values are taken with the types they were sent with (the server's Ajv never coerces), so a
 * query string, which is text, has schemas of text; a pattern's `description` is what a refusal
 * says the value must be.
 */
import * as names from "../../core/names.ts";

const SOP_NAME = {
  type: "string", pattern: names.SOP_NAME.source,
  description: 'an SOP name (lower-case letters, digits, - and _, at most 64, e.g. "deploy-production")',
} as const;
const RUN_ID = {
  type: "string", pattern: names.RUN_ID.source, description: "a run id (letters, digits, - and _)",
} as const;
const TEXT = { type: "string", maxLength: 4096 } as const;
/** The checkpoint the caller was shown (`step:3`, `gate:pre_deploy` …): a decision on another is refused as stale. */
const CHECKPOINT = { type: "string", minLength: 1, maxLength: 200 } as const;

export const VARS = {
  type: "object",
  maxProperties: 200,
  propertyNames: {
    pattern: "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$",
    description: "a variable name (a letter or _, then letters, digits, _, . and -, at most 128)",
  },
  // A var is a VarValue (src/core/sop/types.ts); null, lists and objects are refused.
  additionalProperties: { anyOf: [{ type: "string", maxLength: 16384 }, { type: "number" }, { type: "boolean" }] },
} as const;

export const approveBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, run_id: RUN_ID, checkpoint: CHECKPOINT, comment: TEXT },
} as const;

export const denyBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, run_id: RUN_ID, checkpoint: CHECKPOINT, reason: TEXT },
} as const;

export const executeBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, vars: VARS, skip_approval: { type: "boolean" }, force: { type: "boolean" } },
} as const;

/** `sop plan` against a server: the plan of the SOP it would run, for these variables. */
export const planBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, vars: VARS },
} as const;

export const cancelBody = {
  type: "object", additionalProperties: false,
  anyOf: [{ required: ["sop"] }, { required: ["run_id"] }],
  properties: { sop: SOP_NAME, run_id: RUN_ID, reason: TEXT },
} as const;

export const triggerBody = {
  type: "object", required: ["text"], additionalProperties: false,
  properties: { text: { type: "string", minLength: 1, maxLength: 4096 } },
} as const;

export const nameParams = {
  type: "object", required: ["name"], properties: { name: SOP_NAME },
} as const;

export const idParams = {
  type: "object", required: ["id"], properties: { id: RUN_ID },
} as const;

export const runsQuery = {
  type: "object", additionalProperties: false,
  properties: {
    sop: SOP_NAME,
    status: { type: "string", pattern: "^[a-z_]+(,[a-z_]+)*$", description: 'run statuses separated by commas (e.g. "failed,cancelled")' },
    limit: { type: "string", pattern: "^(1000|[1-9][0-9]{0,2})$", description: "a whole number from 1 to 1000" },
    cursor: { type: "string", minLength: 1, maxLength: 400, description: "the next_cursor of the page before" },
  },
} as const;

export interface ApproveBody { sop: string; run_id?: string; checkpoint?: string; comment?: string }
export interface DenyBody { sop: string; run_id?: string; checkpoint?: string; reason?: string }
export interface ExecuteBody { sop: string; vars?: Record<string, string | number | boolean>; skip_approval?: boolean; force?: boolean }
export interface PlanBody { sop: string; vars?: Record<string, string | number | boolean> }
export interface CancelBody { sop?: string; run_id?: string; reason?: string }
export interface TriggerBody { text: string }
export interface RunsQuery { sop?: string; status?: string; limit?: string; cursor?: string }
