/**
 * Errors as HTTP answers (SPEC §5.3). Every error body is `{ "error": "…" }`, with the code and,
 * where they help the caller, the waiting runs (409) or the seconds left (429). Handlers throw;
 * the server's one error handler answers through `errorReply`.
 */
import type { FastifyError, FastifySchemaValidationError } from "fastify";
import { SopError, type SopErrorCode } from "../app/sop-error.ts";

const STATUS: Record<SopErrorCode, number> = {
  unknown_sop: 404,
  unknown_run: 404,
  not_allowed: 403,
  self_approval: 403,
  ambiguous: 409,
  nothing_waiting: 409,
  not_waiting: 409,
  finished: 409,
  already_decided: 409,
  duplicate: 409,
  stale: 409,
  cooldown: 429,
  max_concurrent: 429,
  invalid: 400,
};

export interface ErrorBody {
  error: string;
  code?: string;
  retry_after_secs?: number;
  runs?: { id: string; status: string; waiting?: string }[];
}

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
  /** Not the caller's fault: log it with its stack. */
  internal: boolean;
}

export function statusOf(code: SopErrorCode): number {
  return STATUS[code];
}

export function sopErrorBody(err: SopError): ErrorBody {
  const body: ErrorBody = { error: err.message, code: err.code };
  if (err.details.retryAfterSecs !== undefined) body.retry_after_secs = err.details.retryAfterSecs;
  // What the API has always said of each run; where its checkpoint sits in the run is for buttons.
  if (err.details.runs) body.runs = err.details.runs.map(({ id, status, waiting }) => ({ id, status, ...(waiting === undefined ? {} : { waiting }) }));
  return body;
}

/** What a thrown object may carry: a Fastify error's fields, each of which may be missing. */
type ThrownError = Partial<FastifyError> & { message: string };

type SchemaError = FastifySchemaValidationError & { propertyName?: string; parentSchema?: { description?: unknown } };

/**
 * Ajv's words for a failed schema, said the way a caller can act on: which field, and what it
 * must be (`body.force must be boolean`). With `allErrors` off, Ajv stops at the first failure,
 * except that a failed `anyOf` lists each alternative's failure before its own.
 */
function validationMessage(err: ThrownError): string {
  const errors = (err.validation ?? []) as SchemaError[];
  const failed = errors.find((e) => e.keyword === "anyOf") ?? errors[0];
  if (!failed) return err.message;
  return `${err.validationContext ?? "body"}${failed.instancePath.replace(/\//g, ".")} ${problem(failed, errors)}`;
}

function problem(e: SchemaError, errors: readonly SchemaError[]): string {
  const description = typeof e.parentSchema?.description === "string" ? e.parentSchema.description : undefined;
  if (e.keyword === "pattern" && e.propertyName !== undefined) {
    return `has a field "${e.propertyName}" that is not ${description ?? `matching ${String(e.params["pattern"])}`}`;
  }
  if (e.keyword === "pattern" && description) return `must be ${description}`;
  const extra = e.params["additionalProperty"];
  if (e.keyword === "additionalProperties") return `has an unknown field "${typeof extra === "string" ? extra : "?"}"`;
  if (e.keyword === "anyOf") return anyOfProblem(e, errors);
  return e.message ?? "is invalid";
}

/** Of the alternatives, say which types or fields would do, or else why the one of the right type failed. */
function anyOfProblem(e: SchemaError, errors: readonly SchemaError[]): string {
  const alternatives = errors.filter((a) => a.schemaPath.startsWith(`${e.schemaPath}/`));
  const ofRightType = alternatives.find((a) => a.keyword !== "type" && a.keyword !== "required");
  if (ofRightType) return problem(ofRightType, errors);
  if (alternatives.length && alternatives.every((a) => a.keyword === "type")) return `must be ${orList(alternatives.map((a) => String(a.params["type"])))}`;
  if (alternatives.length && alternatives.every((a) => a.keyword === "required")) return `must have ${orList(alternatives.map((a) => `"${String(a.params["missingProperty"])}"`))}`;
  return e.message ?? "is invalid";
}

const orList = (words: readonly string[]): string =>
  words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1] ?? ""}`;

export function errorReply(err: unknown): ErrorReply {
  if (err instanceof SopError) {
    const headers: Record<string, string> = {};
    if (err.details.retryAfterSecs !== undefined) headers["retry-after"] = String(err.details.retryAfterSecs);
    return { status: statusOf(err.code), headers, body: sopErrorBody(err), internal: false };
  }
  const internal: ErrorReply = { status: 500, headers: {}, body: { error: "internal error; the server log has the details" }, internal: true };
  // Anything may be thrown; only an object carries a validation or a status.
  if (typeof err !== "object" || err === null) return internal;
  const fe = err as ThrownError;
  if (fe.validation) return { status: 400, headers: {}, body: { error: validationMessage(fe), code: "invalid" }, internal: false };
  const status = typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  if (status === 500) return internal;
  return { status, headers: {}, body: { error: bodyErrorMessage(fe, status), code: fe.code ?? "bad_request" }, internal: false };
}

function bodyErrorMessage(fe: ThrownError, status: number): string {
  if (status === 413) return "request body too large (the API takes at most 256 KiB of JSON)";
  if (fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" || /JSON/.test(fe.message)) return `malformed JSON body: ${fe.message}`;
  if (status === 415) return "send JSON (Content-Type: application/json)";
  return fe.message;
}
