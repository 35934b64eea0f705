import { join } from "node:path";

/**
 * A run's start as `YYYYMMDDTHHMMSSmmmZ` in UTC, e.g. `20260225T130000000Z`: sorts like time,
 * and has no `:` (forbidden in Windows file names). Throws a RangeError on an invalid date or a
 * year outside 0000–9999, whose ISO form would not fit the pattern.
 */
export function auditTimestamp(date: Date): string {
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso)) throw new RangeError(`cannot name an audit file for the year of ${iso}`);
  return iso.replace(/[-:.]/g, "");
}

/** `<logsDir>/sop/<sop>/<timestamp>-<runId>.json`, where one run's audit record lives. */
export function auditFilePath(logsDir: string, sop: string, startedAt: Date, runId: string): string {
  return join(logsDir, "sop", segment("SOP name", sop), `${auditTimestamp(startedAt)}-${segment("run id", runId)}.json`);
}

// Names come from SOP folders and id generators, but a slash or `..` here would write outside
// the audit tree, so refuse rather than trust.
function segment(what: string, value: string): string {
  if (value === "" || value === "." || value === ".." || /[/\\\0]/.test(value)) {
    throw new RangeError(`cannot build an audit file path: ${what} ${JSON.stringify(value)} is not a valid file name part`);
  }
  return value;
}
