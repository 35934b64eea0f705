/**
 * SOP.toml → a typed manifest plus located diagnostics. smol-toml reads the document,
 * `manifestSchema` validates it, and positions come from `toml-locations` only when something
 * needs one. Never throws: whatever the input, the answer is diagnostics.
 */
import { parse, TomlError } from "smol-toml";
import { describeIssues, type IssueReport } from "./manifest-issues.ts";
import { manifestSchema, type ManifestOutput } from "./manifest-schema.ts";
import { createTomlLocator, type TomlLocator } from "./toml-locations.ts";
import type { ApprovalPolicy, Diagnostic, Position, SopDefinition, Trigger } from "./types.ts";

export interface ManifestGate {
  name: string;
  /** Position of the gate's name, for "gate names no step" errors. */
  line: number;
  column: number;
  gate:
    | { type: "approval"; required: boolean; policy: ApprovalPolicy }
    | { type: "verification"; command: string; timeoutSecs?: number };
}

export type Manifest = Omit<SopDefinition, "steps" | "gates"> & {
  gates: ManifestGate[];
  /** Position of `[sop].name`'s value, for "name differs from the folder" errors. */
  namePosition: Position;
};

export interface ManifestResult {
  /** Present when there are no errors (warnings allowed). */
  manifest?: Manifest;
  diagnostics: Diagnostic[];
}

type RawGate = ManifestOutput["gates"][string];
type RawTrigger = ManifestOutput["triggers"][number];

function diagnostic(file: string, position: Position, report: Pick<Diagnostic, "severity" | "code" | "message">): Diagnostic {
  return {
    severity: report.severity,
    code: report.code,
    message: report.message,
    file,
    line: Math.max(1, Math.trunc(position.line) || 1),
    column: Math.max(1, Math.trunc(position.column) || 1),
  };
}

function syntaxError(error: unknown, file: string): Diagnostic {
  if (error instanceof TomlError) {
    // smol-toml's first line reads "Invalid TOML document: <reason>"; the rest is a code excerpt.
    const reason = (error.message.split("\n", 1)[0] ?? "").replace(/^Invalid TOML document: /, "");
    return diagnostic(file, error, { severity: "error", code: "toml-syntax", message: `TOML syntax error: ${reason}` });
  }
  const reason =
    error instanceof RangeError
      ? "the document is nested too deeply to read"
      : error instanceof Error
        ? (error.message.split("\n", 1)[0] ?? "")
        : String(error);
  return diagnostic(file, { line: 1, column: 1 }, { severity: "error", code: "toml-syntax", message: `TOML syntax error: ${reason}` });
}

function toDiagnostic(report: IssueReport, locator: TomlLocator, file: string): Diagnostic {
  const position = report.at === "key" ? locator.keyAt(report.path) : locator.valueAt(report.path);
  return diagnostic(file, position, report);
}

/** Removes the keys reported as unknown, so the document can be read without them. */
function dropUnknownKeys(document: unknown, reports: readonly IssueReport[]): void {
  for (const report of reports) {
    if (report.code !== "unknown-key") continue;
    let table: unknown = document;
    for (const key of report.path.slice(0, -1)) table = (table as Record<string | number, unknown> | undefined)?.[key];
    const key = report.path[report.path.length - 1];
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the parsed TOML document is data shaped by its author, not a map of ours: a refused key is taken out of it where it stands
    if (typeof table === "object" && table !== null && key !== undefined) delete (table as Record<string | number, unknown>)[key];
  }
}

/** A position read only when someone asks: valid manifests never pay for the location parse. */
function lazyPosition(locator: TomlLocator, path: readonly (string | number)[], at: "key" | "value"): Position {
  const find = () => (at === "key" ? locator.keyAt(path) : locator.valueAt(path));
  return {
    get line() {
      return find().line;
    },
    get column() {
      return find().column;
    },
  };
}

function toTrigger(raw: RawTrigger): Trigger {
  switch (raw.type) {
    case "command":
      return { type: "command", pattern: raw.pattern, captureGroups: raw.capture_groups };
    case "file_watch":
      return { type: "file_watch", path: raw.path, event: raw.event };
    case "schedule":
      return raw.timezone === undefined ? { type: "schedule", cron: raw.cron } : { type: "schedule", cron: raw.cron, timezone: raw.timezone };
    case "manual":
      return { type: "manual" };
  }
}

function toGate(raw: RawGate, defaults: ApprovalPolicy): ManifestGate["gate"] {
  if (raw.type === "verification") {
    return raw.timeout_secs === undefined
      ? { type: "verification", command: raw.command }
      : { type: "verification", command: raw.command, timeoutSecs: raw.timeout_secs };
  }
  const policy: ApprovalPolicy = {
    approvers: raw.approvers ?? defaults.approvers,
    minApprovals: raw.min_approvals ?? defaults.minApprovals,
    allowSelfApproval: raw.allow_self_approval ?? defaults.allowSelfApproval,
    timeoutSecs: raw.timeout_secs ?? defaults.timeoutSecs,
    onTimeout: raw.on_timeout ?? defaults.onTimeout,
  };
  return { type: "approval", required: raw.required, policy };
}

function toManifest(data: ManifestOutput, locator: TomlLocator): Manifest {
  const { sop, approval } = data;
  const policy: ApprovalPolicy = {
    approvers: approval.approvers,
    minApprovals: approval.min_approvals,
    allowSelfApproval: approval.allow_self_approval,
    timeoutSecs: approval.timeout_secs,
    onTimeout: approval.on_timeout,
  };
  const gates = Object.entries(data.gates).map(([name, raw]): ManifestGate => {
    const position = lazyPosition(locator, ["gates", name], "key");
    return {
      name,
      get line() {
        return position.line;
      },
      get column() {
        return position.column;
      },
      gate: toGate(raw, policy),
    };
  });
  return {
    name: sop.name,
    description: sop.description,
    version: sop.version,
    priority: sop.priority,
    executionMode: sop.execution_mode,
    cooldownSecs: sop.cooldown_secs,
    maxConcurrent: sop.max_concurrent,
    ...(sop.timeout_secs === undefined ? {} : { timeoutSecs: sop.timeout_secs }),
    workdir: sop.workdir,
    vars: { ...data.vars },
    secrets: data.secrets.names,
    approval: policy,
    notify: { slack: data.notify.slack, discord: data.notify.discord },
    triggers: data.triggers.map(toTrigger),
    gates,
    namePosition: lazyPosition(locator, ["sop", "name"], "value"),
  };
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.line - b.line || a.column - b.column;
}

function read(toml: string, file: string): ManifestResult {
  // Editors do not count a byte-order mark as a column, and TOML readers need not accept one.
  const source = toml.startsWith("\uFEFF") ? toml.slice(1) : toml;
  let document: unknown;
  try {
    document = parse(source);
  } catch (error) {
    return { diagnostics: [syntaxError(error, file)] };
  }
  const locator = createTomlLocator(source);
  const first = manifestSchema.safeParse(document);
  if (first.success) return { manifest: toManifest(first.data, locator), diagnostics: [] };

  let reports = describeIssues(first.error.issues, document, manifestSchema);
  let data: ManifestOutput | undefined;
  if (reports.every((report) => report.severity === "warning")) {
    // Unknown keys are only warnings, but a strict schema refuses them: read again without them.
    dropUnknownKeys(document, reports);
    const second = manifestSchema.safeParse(document);
    if (second.success) data = second.data;
    else reports = [...reports, ...describeIssues(second.error.issues, document, manifestSchema)];
  }
  const diagnostics = reports.map((report) => toDiagnostic(report, locator, file)).sort(byPosition);
  return data === undefined ? { diagnostics } : { manifest: toManifest(data, locator), diagnostics };
}

/** Parses and validates an SOP.toml. `file` is only used to name the file in diagnostics. */
export function parseManifest(toml: string, file: string): ManifestResult {
  try {
    return read(toml, file);
  } catch (error) {
    // A library's stack overflow (or a bug of ours) must still come back as a diagnostic.
    if (error instanceof RangeError) return { diagnostics: [syntaxError(error, file)] };
    const reason = error instanceof Error ? error.message.split("\n", 1)[0] : String(error);
    const message = `could not validate the manifest: ${reason ?? "unknown error"}`;
    return { diagnostics: [diagnostic(file, { line: 1, column: 1 }, { severity: "error", code: "internal", message })] };
  }
}
