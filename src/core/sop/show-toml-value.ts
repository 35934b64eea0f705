/** How a value read from TOML is quoted in a diagnostic: short, one line, TOML spelling. */
const MAX_SHOWN = 60;

export function showTomlValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return `a date (${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  if (Array.isArray(value)) return "an array";
  if (value === null || value === undefined) return "nothing";
  return "a table";
}

/** A string in double quotes, escaped like JSON, cut short when long (huge values stay readable). */
export function quote(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}
