/**
 * zod issues → messages an SOP author can act on. Each report names the field the way the
 * author wrote it (`[sop].priority`, `[[triggers]] #2 cron`) and says what would be accepted;
 * zod's own wording never reaches the author. Positions are added by the caller.
 */
import * as z from "zod";
import { knownKeysAt, schemaAt, suggestKey } from "./manifest-keys.ts";
import { ENUM_ALIASES } from "./manifest-schema.ts";
import { quote, showTomlValue } from "./show-toml-value.ts";
import type { TomlPath } from "./toml-locations.ts";
import { deterministicWithoutEffect, zeroclawTriggerType } from "./zeroclaw-keys.ts";

type Issue = z.core.$ZodIssue;

export interface IssueReport {
  severity: "error" | "warning";
  code: string;
  message: string;
  path: TomlPath;
  /** Point at the key (unknown keys, bad table names) or at the value (everything else). */
  at: "key" | "value";
}

interface Context {
  schema: z.ZodType;
  document: unknown;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "an array",
  object: "a table",
  record: "a table",
};

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

const TRIGGERS_AS_ARRAY = "[triggers] must be written as [[triggers]] tables, one per trigger";

function isTriggers(path: TomlPath): boolean {
  return path.length === 1 && path[0] === "triggers";
}

/** `[[triggers]] #N type`. */
function isTriggerType(path: TomlPath): boolean {
  return path.length === 3 && path[0] === "triggers" && typeof path[1] === "number" && path[2] === "type";
}

function isInteger(schema: z.ZodType | undefined): boolean {
  // Zod's own test for an integer format (safeint, int32, uint32); the schema states integers with z.int().
  return schema instanceof z.ZodNumber && (schema.format?.includes("int") ?? false);
}

function valueAt(document: unknown, path: TomlPath): unknown {
  let value = document;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** A key as TOML would spell it: bare when it can be, quoted (and cut short) otherwise. */
function keyText(key: string): string {
  return /^[A-Za-z0-9_-]{1,60}$/.test(key) ? key : quote(key);
}

function segment(key: string | number): string {
  return typeof key === "number" ? ` #${key + 1}` : `.${keyText(key)}`;
}

/** `[sop].priority`, `[[triggers]] #2 cron`, `[gates].pre_patch.approvers #1`. */
function labelOf(path: TomlPath): string {
  const [table, ...rest] = path;
  if (table === undefined) return "the manifest";
  const [index, field, ...more] = rest;
  if (table === "triggers" && typeof index === "number") {
    const base = `[[triggers]] #${index + 1}`;
    return field === undefined ? base : `${base} ${String(field)}${more.map(segment).join("")}`;
  }
  return `[${keyText(String(table))}]${rest.map(segment).join("")}`;
}

function oneOf(values: readonly unknown[]): string {
  const canonical = values.filter((value) => typeof value !== "string" || !(value in ENUM_ALIASES)).map(String);
  const aliases = values.filter((value) => typeof value === "string" && value in ENUM_ALIASES);
  const aside = aliases.length > 0 ? ` (or ${aliases.map((alias) => JSON.stringify(alias)).join(", ")})` : "";
  return `one of ${canonical.join(", ")}${aside}`;
}

function error(code: string, message: string, path: TomlPath, at: "key" | "value" = "value"): IssueReport {
  return { severity: "error", code, message, path, at };
}

function missingKey(path: TomlPath, ctx: Context): IssueReport {
  const parentPath = path.slice(0, -1);
  const key = String(path[path.length - 1]);
  const parent = valueAt(ctx.document, parentPath);
  // zod takes a TOML date for a table; say what is really wrong with it.
  if (parent instanceof Date) {
    return error("invalid-type", `${labelOf(parentPath)} must be a table, got ${showTomlValue(parent)}`, parentPath);
  }
  if (parentPath.length === 0) return error("missing-key", `missing required table [${keyText(key)}]`, path);
  return error("missing-key", `${labelOf(parentPath)} is missing required key ${quote(key)}`, path);
}

function unknownKeys(issue: z.core.$ZodIssueUnrecognizedKeys, path: TomlPath, ctx: Context): IssueReport[] {
  const known = knownKeysAt(ctx.schema, path, ctx.document);
  return issue.keys.map((key) => {
    const suggestion = suggestKey(key, known);
    const keyPath = [...path, key];
    let message: string;
    if (path.length === 1 && path[0] === "sop" && key === "deterministic") {
      message = deterministicWithoutEffect(valueAt(ctx.document, path));
    } else if (path.length === 0) {
      const value = valueAt(ctx.document, keyPath);
      const looksLikeTable = isTable(value) || (Array.isArray(value) && value.length > 0 && value.every(isTable));
      message = looksLikeTable ? `unknown table [${keyText(key)}]` : `unknown top-level key ${quote(key)}`;
      if (suggestion !== undefined) message += `; did you mean [${suggestion}]?`;
    } else {
      message = `unknown key ${quote(key)} in ${labelOf(path)}`;
      if (suggestion !== undefined) message += `; did you mean ${JSON.stringify(suggestion)}?`;
    }
    return { severity: "warning", code: "unknown-key", message, path: keyPath, at: "key" } satisfies IssueReport;
  });
}

function union(issue: z.core.$ZodIssueInvalidUnion, path: TomlPath, ctx: Context): IssueReport[] {
  const value = valueAt(ctx.document, path);
  if (issue.discriminator !== undefined && issue.errors.length === 0) {
    if (value === undefined) return [missingKey(path, ctx)];
    const zeroclaw = isTriggerType(path) && typeof value === "string" ? zeroclawTriggerType(value, valueAt(ctx.document, path.slice(0, -1))) : undefined;
    if (zeroclaw !== undefined) return [error(value === "cron" ? "invalid-value" : "unsupported-trigger", `${labelOf(path)} ${zeroclaw}`, path)];
    const options = ("options" in issue ? issue.options : undefined) ?? [];
    return [error("invalid-value", `${labelOf(path)} must be ${oneOf(options)}, got ${showTomlValue(value)}`, path)];
  }
  // The option whose kind (array, table, …) fits the value is the one the author meant.
  const wrongKind = (errors: readonly Issue[]) => errors.some((inner) => inner.code === "invalid_type" && inner.path.length === 0);
  const matched = issue.errors.find((errors) => !wrongKind(errors));
  if (matched !== undefined) return describeAt(matched, path, ctx);
  if (isTriggers(path)) return [error("triggers-table", `${TRIGGERS_AS_ARRAY}, got ${showTomlValue(value)}`, path)];
  const expected = issue.errors.flatMap((errors) =>
    errors.flatMap((inner) => (inner.code === "invalid_type" ? [inner.expected === "boolean" ? "a boolean" : (EXPECTED[inner.expected] ?? inner.expected)] : [])),
  );
  const list = expected.length > 1 ? `${expected.slice(0, -1).join(", ")} or ${expected[expected.length - 1]}` : (expected[0] ?? "something else");
  return [error("invalid-type", `${labelOf(path)} must be ${list}, got ${showTomlValue(value)}`, path)];
}

function describe(issue: Issue, path: TomlPath, ctx: Context): IssueReport[] {
  const label = labelOf(path);
  const value = valueAt(ctx.document, path);
  const got = `got ${showTomlValue(value)}`;
  switch (issue.code) {
    case "invalid_type": {
      if (value === undefined) return [missingKey(path, ctx)];
      // zod says "number" when an integer field gets a string; the author needs to hear "integer".
      const expected = issue.expected === "number" && isInteger(schemaAt(ctx.schema, path, ctx.document)) ? "int" : issue.expected;
      return [error("invalid-type", `${label} must be ${EXPECTED[expected] ?? expected}, ${got}`, path)];
    }
    case "too_small": {
      if (issue.origin === "string") return [error("out-of-range", `${label} must not be empty`, path)];
      if (issue.origin === "array") return [error("out-of-range", `${label} must list at least ${issue.minimum}`, path)];
      const bound = issue.inclusive === false ? "greater than" : "at least";
      return [error("out-of-range", `${label} must be ${bound} ${issue.minimum}, ${got}`, path)];
    }
    case "too_big": {
      const bound = issue.inclusive === false ? "less than" : "at most";
      return [error("out-of-range", `${label} must be ${bound} ${issue.maximum}, ${got}`, path)];
    }
    case "invalid_value":
      return [error("invalid-value", `${label} must be ${oneOf(issue.values)}, ${got}`, path)];
    case "invalid_format":
      return [error("invalid-format", `${label} ${issue.message}, ${got}`, path)];
    case "custom": {
      const code: unknown = issue.params?.["code"];
      return [error(typeof code === "string" ? code : "invalid-value", `${label} ${issue.message}`, path)];
    }
    case "unrecognized_keys":
      // `[triggers]` may be an empty table (the seed writes one); with keys it is a mistake.
      if (isTriggers(path)) return [error("triggers-table", `${TRIGGERS_AS_ARRAY} (a single [triggers] table may only be empty)`, path)];
      return unknownKeys(issue, path, ctx);
    case "invalid_union":
      return union(issue, path, ctx);
    case "invalid_key": {
      const reason = issue.issues[0]?.message ?? "is not an accepted key";
      return [error("invalid-key", `${label} ${reason}`, path, "key")];
    }
    default:
      return [error("invalid-value", `${label} has an invalid value, ${got}`, path)];
  }
}

function describeAt(issues: readonly Issue[], base: TomlPath, ctx: Context): IssueReport[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path.map((key) => (typeof key === "number" ? key : String(key)))];
    return describe(issue, path, ctx);
  });
}

/** Every issue as one or more reports, duplicates removed (a TOML date can trip several checks). */
export function describeIssues(issues: readonly Issue[], document: unknown, schema: z.ZodType): IssueReport[] {
  const seen = new Set<string>();
  return describeAt(issues, [], { schema, document }).filter((report) => {
    const id = `${report.severity}\u0000${report.message}\u0000${JSON.stringify(report.path)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
