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
  return encode(value, undefined, new Set());
}

/**
 * Where a value sits, as the chain of keys from the root: spelled out (`$.steps[2].output`) only
 * for an error, so a record that is plain JSON (every record sealed) builds no path strings.
 */
interface Place {
  up: Place | undefined;
  key: string | number;
}

function encode(value: unknown, place: Place | undefined, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw notJson(place, String(value));
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      return encodeContainer(value, place, ancestors);
    default:
      throw notJson(place, `a ${typeof value}`);
  }
}

function encodeContainer(value: object, place: Place | undefined, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: ${pathOf(place)} refers back to itself (a cycle)`);
  // Only ancestors count: the same object reached twice by different paths is a DAG, not a cycle.
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item: unknown, i) => encode(item, { up: place, key: i }, ancestors)).join(",")}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // An object need not have a constructor (one made with Object.create from another).
      const { constructor: made } = value as { constructor?: { name: string } };
      throw notJson(place, `a ${made?.name ?? "non-plain object"}`);
    }
    const members: string[] = [];
    // Default sort compares UTF-16 code units: stable across locales, unlike localeCompare.
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${encode(member, { up: place, key }, ancestors)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** `$`, then `.name` for identifier-like keys, `["odd key"]` for others and `[i]` for array items. */
function pathOf(place: Place | undefined): string {
  if (place === undefined) return "$";
  const { up, key } = place;
  if (typeof key === "number") return `${pathOf(up)}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${pathOf(up)}.${key}` : `${pathOf(up)}[${JSON.stringify(key)}]`;
}

function notJson(place: Place | undefined, what: string): TypeError {
  return new TypeError(`canonicalJson: ${pathOf(place)} is ${what}, which is not plain JSON`);
}
