/** JSON schemas of the API's requests: names are checked before anything touches the store. */
export const SOP_NAME = { type: "string", pattern: "^[a-z0-9][a-z0-9_-]{0,63}$" } as const;
export const RUN_ID = { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$" } as const;
const TEXT = { type: "string", maxLength: 4096 } as const;

export const VARS = {
  type: "object",
  maxProperties: 200,
  propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$" },
  // Listed number, boolean, string: with fastify's type coercion the first that fits wins.
  additionalProperties: { anyOf: [{ type: "number" }, { type: "boolean" }, { type: "string", maxLength: 16384 }] },
} as const;

export const approveBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, run_id: RUN_ID, comment: TEXT },
} as const;

export const denyBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, run_id: RUN_ID, reason: TEXT },
} as const;

export const executeBody = {
  type: "object", required: ["sop"], additionalProperties: false,
  properties: { sop: SOP_NAME, vars: VARS, skip_approval: { type: "boolean" }, force: { type: "boolean" } },
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
    status: { type: "string", pattern: "^[a-z_]+(,[a-z_]+)*$" },
    limit: { type: "integer", minimum: 1, maximum: 1000 },
  },
} as const;

export interface ApproveBody { sop: string; run_id?: string; comment?: string }
export interface DenyBody { sop: string; run_id?: string; reason?: string }
export interface ExecuteBody { sop: string; vars?: Record<string, string | number | boolean>; skip_approval?: boolean; force?: boolean }
export interface CancelBody { sop?: string; run_id?: string; reason?: string }
export interface TriggerBody { text: string }
export interface RunsQuery { sop?: string; status?: string; limit?: number }
