/**
 * Step attributes and ZeroClaw-style bullets → typed step options, each problem located.
 */
import { parseCondition } from "../conditions/parse-condition.ts";
import type { Condition } from "./types.ts";
import { unquote } from "./step-attributes.ts";

export const KNOWN_ATTRIBUTES = ["if", "requires_approval", "manual", "timeout", "retries", "continue_on_error", "always"] as const;
type Known = (typeof KNOWN_ATTRIBUTES)[number];

export interface StepOptions {
  condition?: Condition;
  requiresApproval?: boolean;
  manual?: boolean;
  timeoutSecs?: number;
  retries?: number;
  continueOnError?: boolean;
  always?: boolean;
}

export interface OptionProblem {
  severity: "error" | "warning";
  code: string;
  message: string;
  /** Offset into the attribute value or key where the problem is. */
  at: "key" | "value";
  /** Extra offset inside the value (condition errors). */
  inner?: number;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function suggestKey(key: string): string {
  const near = KNOWN_ATTRIBUTES.find((k) => distance(key, k) <= 2);
  return near ? `; did you mean "${near}"?` : "";
}

export function isKnownAttribute(key: string): key is Known {
  return (KNOWN_ATTRIBUTES as readonly string[]).includes(key);
}

/** Apply one known attribute to `opts`; returns a problem or undefined. */
export function applyAttribute(opts: StepOptions, key: Known, raw: string): OptionProblem | undefined {
  const bool = (field: "requiresApproval" | "manual" | "continueOnError" | "always"): OptionProblem | undefined => {
    const v = unquote(raw);
    if (v !== "true" && v !== "false") return { severity: "error", code: "bad-attribute", at: "value", message: `${key} must be true or false, got "${v}"` };
    opts[field] = v === "true";
    return undefined;
  };
  switch (key) {
    case "if": {
      const parsed = parseCondition(raw);
      if (!parsed.ok) return { severity: "error", code: "bad-condition", at: "value", inner: parsed.offset, message: `bad condition: ${parsed.message}` };
      opts.condition = { source: raw, ast: parsed.ast };
      return undefined;
    }
    case "requires_approval":
      return bool("requiresApproval");
    case "manual":
      return bool("manual");
    case "continue_on_error":
      return bool("continueOnError");
    case "always":
      return bool("always");
    case "timeout":
    case "retries": {
      const v = unquote(raw);
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (key === "timeout" && !(n >= 1)) return { severity: "error", code: "bad-attribute", at: "value", message: `timeout must be a whole number of seconds >= 1, got "${v}"` };
      if (key === "retries" && !(n >= 0)) return { severity: "error", code: "bad-attribute", at: "value", message: `retries must be a whole number >= 0, got "${v}"` };
      if (key === "timeout") opts.timeoutSecs = n;
      else opts.retries = n;
      return undefined;
    }
  }
}
