/**
 * Command triggers: a chat message (or `sop trigger TEXT`) that matches an SOP's pattern starts
 * it. Patterns are compiled once per catalog so matching a message stays cheap with many SOPs.
 */
import type { SopDefinition, VarValue } from "../sop/types.ts";

export interface TriggerMatch {
  sop: string;
  pattern: string;
  vars: Record<string, VarValue>;
}

interface Compiled {
  sop: string;
  pattern: string;
  regex: RegExp;
  captureGroups: boolean;
  /** For each capturing group by number: is it named? */
  named: boolean[];
}

/** Which capturing groups of a pattern are named, in group-number order. */
export function groupNames(pattern: string): boolean[] {
  const named: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") { i++; continue; }
    if (inClass) { if (ch === "]") inClass = false; continue; }
    if (ch === "[") { inClass = true; continue; }
    if (ch !== "(") continue;
    if (pattern[i + 1] !== "?") named.push(false);
    else if (pattern[i + 2] === "<" && pattern[i + 3] !== "=" && pattern[i + 3] !== "!") named.push(true);
  }
  return named;
}

export class CommandMatcher {
  private readonly compiled: Compiled[];

  constructor(defs: readonly SopDefinition[]) {
    this.compiled = defs.flatMap((def) =>
      def.triggers.flatMap((t) => (t.type === "command" ? [{ sop: def.name, pattern: t.pattern, regex: new RegExp(t.pattern), captureGroups: t.captureGroups, named: groupNames(t.pattern) }] : [])));
  }

  /** Every SOP the text starts, at most once per SOP (its first matching trigger). */
  match(text: string): TriggerMatch[] {
    const seen = new Set<string>();
    const out: TriggerMatch[] = [];
    for (const c of this.compiled) {
      if (seen.has(c.sop)) continue;
      const m = c.regex.exec(text);
      if (!m) continue;
      seen.add(c.sop);
      out.push({ sop: c.sop, pattern: c.pattern, vars: c.captureGroups ? captures(m, c.named) : {} });
    }
    return out;
  }
}

/** Named groups become vars; unnamed ones become match_1, match_2 … (SPEC §2.1). */
function captures(m: RegExpExecArray, named: readonly boolean[]): Record<string, VarValue> {
  const vars: Record<string, VarValue> = {};
  let unnamed = 0;
  for (let i = 1; i < m.length; i++) {
    if (named[i - 1]) continue;
    unnamed++;
    const value = m[i];
    if (value !== undefined) vars[`match_${unnamed}`] = value;
  }
  // A named group that took no part in the match is undefined, which lib.d.ts does not say.
  for (const [name, value] of Object.entries<string | undefined>(m.groups ?? {})) if (value !== undefined) vars[name] = value;
  return vars;
}
