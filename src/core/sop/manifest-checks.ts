/**
 * Checks zod cannot express by itself: each hands the value to the library that will use it
 * later (RegExp, picomatch, cron-parser, Intl), so "valid" here means "will work at run time".
 * Each adds a custom issue whose message follows the field's label, e.g.
 * `[[triggers]] #2 cron "61 * * * *" is invalid: …`.
 */
import { CronExpressionParser } from "cron-parser";
import picomatch from "picomatch";
import type * as z from "zod";
import { quote } from "./show-toml-value.ts";

type Refine = (value: string, ctx: z.RefinementCtx) => void;
/** What is wrong with a value, or undefined when it will work. */
type Problem = { code: string; message: string } | undefined;

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0] ?? "";
}

/** Answers kept per check; past this many distinct values the oldest half goes. */
const MEMO_SIZE = 4096;

/**
 * A check as a refinement, its answers kept by value: a thousand SOPs name the same few cron
 * lines, time zones and patterns, and asking cron-parser or ICU again costs more than the rest
 * of the manifest (Intl.DateTimeFormat alone is ~0.1 ms).
 */
function memoized(check: (value: string) => Problem): Refine {
  const answers = new Map<string, Problem>();
  return (value, ctx) => {
    let problem = answers.get(value);
    if (problem === undefined && !answers.has(value)) {
      problem = check(value);
      if (answers.size >= MEMO_SIZE) for (const key of [...answers.keys()].slice(0, MEMO_SIZE / 2)) answers.delete(key);
      answers.set(value, problem);
    }
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, params: { code: problem.code } });
  };
}

export const checkRegExp: Refine = memoized((pattern) => {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (error) {
    // V8 repeats the pattern ("Invalid regular expression: /(/: …"); ours already shows it.
    const reason = firstLine(error).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    return { code: "bad-regex", message: `${quote(pattern)} is not a valid regular expression: ${reason}` };
  }
});

export const checkGlob: Refine = memoized((glob) => {
  if (glob === "") return undefined; // the length check already says so
  try {
    // strictBrackets turns an unbalanced "[" or "{" into an error instead of a literal character.
    picomatch.makeRe(glob, { strictBrackets: true });
    return undefined;
  } catch (error) {
    return { code: "bad-glob", message: `${quote(glob)} is not a valid glob: ${firstLine(error)}` };
  }
});

export const checkCron: Refine = memoized((cron) => {
  const fields = cron.trim().split(/\s+/).filter((field) => field !== "");
  if (fields.length !== 5 && fields.length !== 6) {
    return {
      code: "bad-cron",
      message: `${quote(cron)} is invalid: it has ${fields.length} field${fields.length === 1 ? "" : "s"}; ` +
        "write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)",
    };
  }
  try {
    CronExpressionParser.parse(cron);
    return undefined;
  } catch (error) {
    return { code: "bad-cron", message: `${quote(cron)} is invalid: ${firstLine(error)}` };
  }
});

export const checkTimeZone: Refine = memoized((timeZone) => {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return undefined;
  } catch {
    return { code: "bad-timezone", message: `${quote(timeZone)} is not a known IANA time zone (e.g. "UTC", "Europe/Paris")` };
  }
});
