/** Hand-built definitions for core tests, so they depend on no parser. */
import { parseCondition } from "../../src/core/conditions/parse-condition.ts";
import { DEFAULT_APPROVAL, slugify, type Gate, type SopDefinition, type Step } from "../../src/core/sop/types.ts";

export function step(number: number, title: string, extra: Partial<Omit<Step, "condition">> & { if?: string } = {}): Step {
  const { if: cond, ...rest } = extra;
  const s: Step = {
    number, title, slug: slugify(title), description: "", commands: [`echo ${number}`], shown: [],
    requiresApproval: false, manual: false, retries: 0, continueOnError: false, always: false, metadata: {}, line: number,
    ...rest,
  };
  if (cond !== undefined) {
    const parsed = parseCondition(cond);
    if (!parsed.ok) throw new Error(`bad condition in test: ${parsed.message}`);
    s.condition = { source: cond, ast: parsed.ast };
  }
  return s;
}

export function definition(steps: Step[], extra: Partial<SopDefinition> = {}): SopDefinition {
  return {
    name: "test-sop", description: "a test", version: "1.0.0", priority: "medium", executionMode: "automatic",
    cooldownSecs: 0, maxConcurrent: 1, workdir: ".", vars: {}, secrets: [], approval: { ...DEFAULT_APPROVAL },
    notify: { slack: [], discord: [] }, triggers: [], gates: [] as Gate[], steps, ...extra,
  };
}
