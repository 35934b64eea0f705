/**
 * Checks zod cannot express by itself: each hands the value to the library that will use it
 * later (RegExp, picomatch, cron-parser, Intl), so "valid" here means "will work at run time".
 * Each adds a custom issue whose message follows the field's label, e.g.
 * `[[triggers]] #2 cron "61 * * * *" is invalid: …`.
 */
import { CronExpressionParser } from "cron-parser";
import picomatch from "picomatch";
import type { z } from "zod";
import { quote } from "./show-toml-value.ts";

type Refine = (value: string, ctx: z.RefinementCtx) => void;

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0] ?? "";
}

function report(ctx: z.RefinementCtx, code: string, message: string): void {
  ctx.addIssue({ code: "custom", message, params: { code } });
}

export const checkRegExp: Refine = (pattern, ctx) => {
  try {
    new RegExp(pattern);
  } catch (error) {
    // V8 repeats the pattern ("Invalid regular expression: /(/: …"); ours already shows it.
    const reason = firstLine(error).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    report(ctx, "bad-regex", `${quote(pattern)} is not a valid regular expression: ${reason}`);
  }
};

export const checkGlob: Refine = (glob, ctx) => {
  if (glob === "") return; // the length check already says so
  try {
    // strictBrackets turns an unbalanced "[" or "{" into an error instead of a literal character.
    picomatch.makeRe(glob, { strictBrackets: true });
  } catch (error) {
    report(ctx, "bad-glob", `${quote(glob)} is not a valid glob: ${firstLine(error)}`);
  }
};

export const checkCron: Refine = (cron, ctx) => {
  const fields = cron.trim().split(/\s+/).filter((field) => field !== "");
  if (fields.length !== 5 && fields.length !== 6) {
    report(
      ctx,
      "bad-cron",
      `${quote(cron)} is invalid: it has ${fields.length} field${fields.length === 1 ? "" : "s"}; ` +
        "write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)",
    );
    return;
  }
  try {
    CronExpressionParser.parse(cron);
  } catch (error) {
    report(ctx, "bad-cron", `${quote(cron)} is invalid: ${firstLine(error)}`);
  }
};

export const checkTimeZone: Refine = (timeZone, ctx) => {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
  } catch {
    report(ctx, "bad-timezone", `${quote(timeZone)} is not a known IANA time zone (e.g. "UTC", "Europe/Paris")`);
  }
};
