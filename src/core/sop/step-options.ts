/**
 * The known step attributes (SPEC §2.2) and their validation, shared by the `[key: value]`
 * group and ZeroClaw-style bullets so both accept and reject exactly the same values.
 */
import { parseCondition, type ParseConditionResult } from "../conditions/parse-condition.ts";
import { suggestKey } from "./manifest-keys.ts";
import { shorten } from "./step-attributes.ts";
import type { Step } from "./types.ts";

export const STEP_ATTRIBUTES = ["if", "requires_approval", "manual", "timeout", "retries", "continue_on_error", "always"] as const;
export type StepAttribute = (typeof STEP_ATTRIBUTES)[number];

/** The part of a step its attributes and bullets set. */
export type StepOptions = Pick<Step, "condition" | "requiresApproval" | "manual" | "timeoutSecs" | "retries" | "continueOnError" | "always">;

export interface OptionError {
  code: "bad-attribute" | "bad-condition";
  message: string;
  /** 0-based offset into the raw value where the problem is. */
  offset: number;
}

export function defaultStepOptions(): StepOptions {
  return { requiresApproval: false, manual: false, retries: 0, continueOnError: false, always: false };
}

export function isStepAttribute(key: string): key is StepAttribute {
  return (STEP_ATTRIBUTES as readonly string[]).includes(key);
}

const BOOLEAN_FIELDS = {
  requires_approval: "requiresApproval",
  manual: "manual",
  continue_on_error: "continueOnError",
  always: "always",
} as const;

/**
 * Sets one known attribute on `options`. `written` is the key as the author wrote it
 * (`requires_confirmation`), so messages name what they see; `raw` is the value as written and
 * `value` the same without its quotes.
 */
export function setStepOption(options: StepOptions, key: StepAttribute, written: string, raw: string, value: string): OptionError | undefined {
  switch (key) {
    case "if": {
      const parsed = parseConditionOnce(raw);
      if (!parsed.ok) return { code: "bad-condition", message: `bad condition: ${parsed.message}`, offset: parsed.offset };
      options.condition = { source: raw, ast: parsed.ast };
      return undefined;
    }
    case "timeout": {
      const seconds = wholeNumber(value);
      if (seconds === undefined || seconds < 1) {
        return bad(`timeout must be a positive whole number of seconds, got "${shorten(value)}"`);
      }
      options.timeoutSecs = seconds;
      return undefined;
    }
    case "retries": {
      const count = wholeNumber(value);
      if (count === undefined) return bad(`retries must be a whole number >= 0, got "${shorten(value)}"`);
      options.retries = count;
      return undefined;
    }
    default: {
      if (value !== "true" && value !== "false") return bad(`${written} must be true or false, got "${shorten(value)}"`);
      options[BOOLEAN_FIELDS[key]] = value === "true";
      return undefined;
    }
  }
}

/** Parses kept per condition text; past this many the oldest half goes. */
const CONDITION_MEMO_SIZE = 4096;
/** Longer conditions are parsed each time, so the memo never holds much text. */
const MEMO_TEXT_LIMIT = 256;
const parsedConditions = new Map<string, ParseConditionResult>();

/**
 * parseCondition, its answers kept by text: steps write the same few conditions
 * (`previous_step == "failed"`, `tests_pass && built`) across a catalog, and reading them again
 * was a good part of reading a step. The AST is plain data nothing writes to (evaluation, plans
 * and explanations only read it), so steps with the same condition share one.
 */
function parseConditionOnce(raw: string): ParseConditionResult {
  if (raw.length > MEMO_TEXT_LIMIT) return parseCondition(raw);
  let parsed = parsedConditions.get(raw);
  if (parsed === undefined) {
    parsed = parseCondition(raw);
    if (parsedConditions.size >= CONDITION_MEMO_SIZE) {
      for (const key of [...parsedConditions.keys()].slice(0, CONDITION_MEMO_SIZE / 2)) parsedConditions.delete(key);
    }
    parsedConditions.set(raw, parsed);
  }
  return parsed;
}

function bad(message: string): OptionError {
  return { code: "bad-attribute", message, offset: 0 };
}

function wholeNumber(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The message for a group key that is not an attribute, with a suggestion when one is close. */
export function unknownAttributeMessage(key: string): string {
  const near = closestAttribute(key);
  const hint = near ? `; did you mean "${near}"?` : "";
  return `unknown step attribute "${shorten(key)}" (known: ${STEP_ATTRIBUTES.join(", ")})${hint}`;
}

/** The known attribute within edit distance 2 of `key`, if any. */
export function closestAttribute(key: string): StepAttribute | undefined {
  const near = suggestKey(key, STEP_ATTRIBUTES);
  return near !== undefined && isStepAttribute(near) ? near : undefined;
}
