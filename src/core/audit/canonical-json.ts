/**
 * Deterministic JSON, the form an audit record is hashed in: object keys sorted by UTF-16 code
 * unit order at every level, no whitespace, arrays in order, `undefined` object members omitted,
 * numbers as `JSON.stringify` prints them.
 *
 * Anything that is not plain JSON throws a TypeError naming where it sits (`$.steps[2].output`):
 * non-finite numbers, functions, symbols, bigints, `undefined` outside an object member, cycles,
 * and objects other than plain objects and arrays (a Date or Map would be silently reshaped by
 * `JSON.stringify` when the record is written, so the file would no longer hash like the value
 * that was sealed). Whatever this accepts hashes the same after a `JSON.stringify`/`JSON.parse`
 * round trip.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, "$", new Set());
}

function encode(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw notJson(path, String(value));
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      return encodeContainer(value, path, ancestors);
    default:
      throw notJson(path, `a ${typeof value}`);
  }
}

function encodeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: ${path} refers back to itself (a cycle)`);
  // Only ancestors count: the same object reached twice by different paths is a DAG, not a cycle.
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item: unknown, i) => encode(item, `${path}[${i}]`, ancestors)).join(",")}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // An object need not have a constructor (one made with Object.create from another).
      const { constructor: made } = value as { constructor?: { name: string } };
      throw notJson(path, `a ${made?.name ?? "non-plain object"}`);
    }
    const members: string[] = [];
    // Default sort compares UTF-16 code units: stable across locales, unlike localeCompare.
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${encode(member, memberPath(path, key), ancestors)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function notJson(path: string, what: string): TypeError {
  return new TypeError(`canonicalJson: ${path} is ${what}, which is not plain JSON`);
}
