import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  conditionVariables,
  evaluateCondition,
  explainCondition,
  formatCondition,
  parseCondition,
  type ConditionNode,
  type Operand,
} from "../../src/core/conditions/index.ts";
import type { VarValue } from "../../src/core/sop/types.ts";

const NAME_CHARS = "abcxyzABZ019_.-".split("");

const name = fc
  .array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 8 })
  .map((chars) => chars.join(""))
  .filter((text) => !/^-?\d+(\.\d+)?$/.test(text) && text !== "true" && text !== "false");

const number = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const operand: fc.Arbitrary<Operand> = fc.oneof(
  name.map((n) => ({ kind: "var" as const, name: n })),
  fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), number, fc.boolean()).map((value) => ({ kind: "literal" as const, value })),
);

// Depth stays far below the parser's nesting limit of 64.
const { node: conditionNode } = fc.letrec<{ node: ConditionNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", maxDepth: 8 },
    operand,
    fc.record({ kind: fc.constant("compare" as const), op: fc.constantFrom("==" as const, "!=" as const), left: operand, right: operand }),
    fc.record({ kind: fc.constant("not" as const), operand: tie("node") }),
    fc.record({ kind: fc.constantFrom("and" as const, "or" as const), left: tie("node"), right: tie("node") }),
  ),
}));

const VALID = [
  "tests_pass",
  '!(env == "production") && steps.build != "failed"',
  "previous_step == 'failed' || a.b-c && !x",
  "(count == 10 || count != -3.5) && true",
  '"it\\"s" == name && !!flag',
];

// Edits that tend to hit error paths: drop, duplicate or insert syntax characters.
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.constantFrom("", "(", ")", '"', "'", "\\", "=", "!", "&", "|", " ", "@", "a")), { maxLength: 5 }))
  .map(([source, edits]) =>
    edits.reduce((text, [at, insert]) => {
      const cut = at % (text.length + 1);
      return insert === "" ? text.slice(0, cut) + text.slice(cut + 1) : text.slice(0, cut) + insert + text.slice(cut);
    }, source),
  );

const source = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: fc.constantFrom(..."ab=!&|()\"' \\-.1".split("")), maxLength: 40 }), mutated);

const values: fc.Arbitrary<Record<string, VarValue>> = fc.dictionary(
  name,
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("10", "10.0", "-3", "no", "OFF"), fc.double(), fc.boolean()),
);

describe("condition properties", () => {
  it("parseCondition never throws and reports errors within the source", () => {
    fc.assert(
      fc.property(source, (text) => {
        const result = parseCondition(text);
        if (result.ok) return;
        expect(result.message.length).toBeGreaterThan(0);
        expect(result.offset).toBeGreaterThanOrEqual(0);
        expect(result.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });

  it("formatCondition output parses back to the same tree", () => {
    fc.assert(
      fc.property(conditionNode, (ast) => {
        expect(parseCondition(formatCondition(ast))).toEqual({ ok: true, ast });
      }),
      { numRuns: 1000 },
    );
  });

  it("formatting a parsed condition is stable", () => {
    fc.assert(
      fc.property(source, (text) => {
        const result = parseCondition(text);
        if (!result.ok) return;
        const printed = formatCondition(result.ast);
        expect(formatCondition((parseCondition(printed) as { ast: ConditionNode }).ast)).toBe(printed);
      }),
      { numRuns: 1000 },
    );
  });

  it("evaluation and explanation never throw, and only read the condition's variables", () => {
    fc.assert(
      fc.property(conditionNode, values, (ast, vars) => {
        const read = new Set<string>();
        const lookup = (key: string): VarValue | undefined => {
          read.add(key);
          return Object.hasOwn(vars, key) ? vars[key] : undefined;
        };
        expect(typeof evaluateCondition(ast, lookup)).toBe("boolean");
        expect(typeof explainCondition(ast, lookup)).toBe("string");
        const names = new Set(conditionVariables(ast));
        for (const key of read) expect(names.has(key)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("a negation always evaluates to the opposite of its operand", () => {
    fc.assert(
      fc.property(conditionNode, values, (ast, vars) => {
        const lookup = (key: string): VarValue | undefined => (Object.hasOwn(vars, key) ? vars[key] : undefined);
        expect(evaluateCondition({ kind: "not", operand: ast }, lookup)).toBe(!evaluateCondition(ast, lookup));
      }),
    );
  });
});
