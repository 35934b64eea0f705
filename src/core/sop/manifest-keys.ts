/**
 * What the schema expects at a place in the document, for messages: the keys a table accepts
 * ("did you mean …?") and whether a number must be whole. Read from the zod schema itself,
 * following the document (a trigger's keys depend on its `type`), so messages never drift from
 * what validation accepts.
 */
import * as z from "zod";

type Path = readonly PropertyKey[];

function child(value: unknown, key: PropertyKey): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return (value as Record<PropertyKey, unknown>)[key];
}

function kindMatches(schema: z.ZodType, value: unknown): boolean {
  if (schema instanceof z.ZodArray) return Array.isArray(value);
  if (schema instanceof z.ZodObject || schema instanceof z.ZodRecord) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
  }
  return true;
}

/** Peels wrappers until the schema that actually checks `value`'s shape. */
function unwrap(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (let hops = 0; current !== undefined && hops < 32; hops++) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else if (current instanceof z.ZodDiscriminatedUnion) {
      const discriminator: string = current.def.discriminator;
      const wanted = child(value, discriminator);
      current = (current.options as z.ZodType[]).find((option) => {
        const tag: unknown = option instanceof z.ZodObject ? option.shape[discriminator] : undefined;
        return tag instanceof z.ZodLiteral && tag.values.has(wanted as never);
      });
    } else if (current instanceof z.ZodUnion) {
      current = (current.options as z.ZodType[]).find((option) => kindMatches(unwrap(option, value) ?? option, value));
    } else {
      return current;
    }
  }
  return current;
}

/** The schema that checks the value at `path` of `document`, wrappers peeled, if any does. */
export function schemaAt(schema: z.ZodType, path: Path, document: unknown): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  let value = document;
  for (const key of path) {
    current = current === undefined ? undefined : unwrap(current, value);
    if (current instanceof z.ZodObject) current = current.shape[key as string] as z.ZodType | undefined;
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return undefined;
    value = child(value, key);
  }
  return current === undefined ? undefined : unwrap(current, value);
}

/** The keys the table at `path` of `document` accepts, or none when no table is expected there. */
export function knownKeysAt(schema: z.ZodType, path: Path, document: unknown): string[] {
  const table = schemaAt(schema, path, document);
  return table instanceof z.ZodObject ? Object.keys(table.shape) : [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate within edit distance 2 (case-insensitive), if any. */
export function suggestKey(unknown: string, candidates: readonly string[]): string | undefined {
  // Keys longer than any candidate by more than 2 can never be within reach; skip the work.
  if (unknown.length > 80) return undefined;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - unknown.length) > 2) continue;
    const distance = editDistance(unknown.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}
