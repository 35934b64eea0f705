/**
 * The typed, validated form of an SOP folder (SOP.toml + SOP.md). Everything here is plain
 * JSON-serialisable data: a run pins the definition it started with and stores it.
 */
import type { ConditionNode } from "../conditions/ast.ts";

export const PRIORITIES = ["low", "medium", "high", "critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const EXECUTION_MODES = ["automatic", "supervised", "step_by_step", "priority_based"] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

/** 1-based line and column, as editors show them. */
export interface Position {
  line: number;
  column: number;
}

export interface Diagnostic {
  severity: "error" | "warning";
  /** Path of the file as the caller named it (relative paths stay relative). */
  file: string;
  line: number;
  column: number;
  message: string;
  /** A stable code for tests and tools, e.g. "toml-syntax", "unknown-key", "bad-condition". */
  code: string;
}

export type VarValue = string | number | boolean;

export interface ApprovalPolicy {
  /** Identities or groups (`slack:U…`, `slack-group:S…`, `discord-role:…`, `api:…`); empty = anyone allowed to use the bot. */
  approvers: string[];
  minApprovals: number;
  allowSelfApproval: boolean;
  /** 0 = wait forever. */
  timeoutSecs: number;
  onTimeout: "deny" | "approve";
}

export interface Condition {
  /** The text as written, e.g. `previous_step == "failed"`. */
  source: string;
  ast: ConditionNode;
}

export interface Step {
  /** 1-based position in the list; what `step:N` gates and audit records refer to. */
  number: number;
  title: string;
  /** Title lower-cased, runs of non-alphanumerics turned into `_`, trimmed of `_`. */
  slug: string;
  description: string;
  /** Runnable fenced blocks (language empty, bash, sh, shell), in order. */
  commands: string[];
  /** Fenced blocks in other languages: shown, never run. */
  shown: { lang: string; code: string }[];
  condition?: Condition;
  requiresApproval: boolean;
  manual: boolean;
  timeoutSecs?: number;
  retries: number;
  continueOnError: boolean;
  always: boolean;
  /** ZeroClaw-style bullet keys other than the known attributes (e.g. `tools`). */
  metadata: Record<string, string>;
  line: number;
}

export type GateAttachment =
  | { when: "pre" | "post"; step: number }
  | { when: "pre_run" | "post_run" };

export type Gate =
  | { name: string; type: "approval"; required: boolean; policy: ApprovalPolicy; attach: GateAttachment }
  | { name: string; type: "verification"; command: string; timeoutSecs?: number; attach: GateAttachment };

export type FileEvent = "create" | "change" | "delete";

export type Trigger =
  | { type: "command"; pattern: string; captureGroups: boolean }
  | { type: "file_watch"; path: string; event: FileEvent }
  | { type: "schedule"; cron: string; timezone?: string }
  | { type: "manual" };

export interface SopDefinition {
  name: string;
  description: string;
  version: string;
  priority: Priority;
  executionMode: ExecutionMode;
  cooldownSecs: number;
  maxConcurrent: number;
  timeoutSecs?: number;
  /** Relative to the SOP folder, as written ("." by default). */
  workdir: string;
  vars: Record<string, VarValue>;
  secrets: string[];
  approval: ApprovalPolicy;
  notify: { slack: string[]; discord: string[] };
  triggers: Trigger[];
  gates: Gate[];
  steps: Step[];
}

/** A definition as loaded from disk: where it lives and what it hashed to. */
export interface LoadedSop {
  definition: SopDefinition;
  /** Absolute path of the SOP folder. */
  dir: string;
  /** SHA-256 (hex) of SOP.toml and SOP.md: the version a run pins. */
  hash: string;
}

export const DEFAULT_APPROVAL: ApprovalPolicy = {
  approvers: [],
  minApprovals: 1,
  allowSelfApproval: true,
  timeoutSecs: 0,
  onTimeout: "deny",
};

/** Title → slug, as gate names and `steps.<slug>` variables use it. */
export function slugify(title: string): string {
  const joined = title.toLowerCase().replace(/[^a-z0-9]+/g, "_");
  // Each run of other characters is one "_" now, so at most one stands at either end; a regex
  // (/^_+|_+$/g) that trimmed them tried every "_" of the slug.
  const start = joined.startsWith("_") ? 1 : 0;
  const end = joined.length > start && joined.endsWith("_") ? joined.length - 1 : joined.length;
  return joined.slice(start, end);
}
