/**
 * The chat commands of SPEC §5.4 as typed: `/approve NAME [RUN_ID] [comment]`,
 * `/deny NAME [RUN_ID] [reason]`, `/sop list|run|plan|status|cancel|stats|help …`. Both
 * platforms parse with this; Discord's typed options are joined into the same words first.
 * A word shaped like a run id (a UUID) names a run; anything else starts the comment.
 */
import { RUN_ID_SHAPE } from "../core/names.ts";

export type ChatCommand =
  | { kind: "approve" | "deny"; sop: string; runId?: string; text?: string }
  | { kind: "list" }
  | { kind: "help" }
  | { kind: "run" | "plan"; sop: string; vars: Record<string, string> }
  | { kind: "status"; target: string }
  | { kind: "cancel"; target: string; reason?: string }
  | { kind: "stats"; sop?: string };

export type Parsed = { ok: true; command: ChatCommand } | { ok: false; error: string };

export const USAGE = [
  "`/approve NAME [RUN_ID] [comment]` approve what a run of NAME waits for",
  "`/deny NAME [RUN_ID] [reason]` deny it (the run ends)",
  "`/sop list` the SOPs",
  "`/sop run NAME [key=value …]` start a run",
  "`/sop plan NAME [key=value …]` which steps would run, skip or wait",
  "`/sop status NAME|RUN_ID` runs going, the last run, cooldown",
  "`/sop cancel NAME|RUN_ID [reason]` cancel a run",
  "`/sop stats [NAME]` success rate, durations, approval waits",
  "`/sop help` this list",
];

/** Words, with "double" or 'single' quotes keeping spaces: `run deploy note="two words"`. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const m of text.matchAll(re)) words.push(m[0].replace(/"([^"]*)"|'([^']*)'/g, (_, a: string | undefined, b: string | undefined) => a ?? b ?? ""));
  return words;
}

function vars(words: readonly string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const w of words) {
    const i = w.indexOf("=");
    if (i <= 0) return `"${w}" is not key=value`;
    out[w.slice(0, i)] = w.slice(i + 1);
  }
  return out;
}

const fail = (error: string): Parsed => ({ ok: false, error });
const ok = (command: ChatCommand): Parsed => ({ ok: true, command });

/** `/approve` and `/deny`: the text after the command name. */
export function parseDecision(kind: "approve" | "deny", text: string): Parsed {
  const words = splitWords(text.trim());
  const [sop, second, ...rest] = words;
  if (!sop) return fail(`usage: /${kind} NAME [RUN_ID] [${kind === "approve" ? "comment" : "reason"}]`);
  const runId = second !== undefined && RUN_ID_SHAPE.test(second) ? second : undefined;
  const remainder = runId ? rest : words.slice(1);
  const comment = remainder.join(" ").trim();
  return ok({ kind, sop, ...(runId ? { runId } : {}), ...(comment ? { text: comment } : {}) });
}

/** `/sop …`: the text after `/sop`. */
export function parseSop(text: string): Parsed {
  const [sub = "help", ...args] = splitWords(text.trim());
  switch (sub.toLowerCase()) {
    case "help": return ok({ kind: "help" });
    case "list": return ok({ kind: "list" });
    case "run":
    case "plan": {
      const [sop, ...rest] = args;
      if (!sop) return fail(`usage: /sop ${sub} NAME [key=value …]`);
      const parsed = vars(rest);
      return typeof parsed === "string" ? fail(`/sop ${sub}: ${parsed}`) : ok({ kind: sub.toLowerCase() as "run" | "plan", sop, vars: parsed });
    }
    case "status": {
      const [target] = args;
      return target ? ok({ kind: "status", target }) : fail("usage: /sop status NAME|RUN_ID");
    }
    case "cancel": {
      const [target, ...rest] = args;
      if (!target) return fail("usage: /sop cancel NAME|RUN_ID [reason]");
      const reason = rest.join(" ").trim();
      return ok({ kind: "cancel", target, ...(reason ? { reason } : {}) });
    }
    case "stats": return ok({ kind: "stats", ...(args[0] ? { sop: args[0] } : {}) });
    default: return fail(`unknown /sop command "${sub}"; try /sop help`);
  }
}
