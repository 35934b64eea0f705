import { describe, expect, it } from "vitest";
import {
  conditionVariables,
  evaluateCondition,
  explainCondition,
  formatCondition,
  isTruthy,
  parseCondition,
  tokenizeCondition,
  type ConditionNode,
  type Lookup,
  type Operand,
} from "../../src/core/conditions/index.ts";
import type { VarValue } from "../../src/core/sop/types.ts";

const v = (name: string): Operand => ({ kind: "var", name });
const lit = (value: string | number | boolean): Operand => ({ kind: "literal", value });

function parsed(source: string): ConditionNode {
  const result = parseCondition(source);
  if (!result.ok) throw new Error(`${source}: ${result.message} at ${result.offset}`);
  return result.ast;
}

function lookupFrom(vars: Record<string, VarValue>): Lookup {
  return (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
}

describe("parseCondition", () => {
  it.each<[string, ConditionNode]>([
    ["tests_pass", v("tests_pass")],
    ["steps.run_tests", v("steps.run_tests")],
    ["tests-pass", v("tests-pass")],
    ["a.b-c", v("a.b-c")],
    ["42", lit(42)],
    ["-3", lit(-3)],
    ["1.5", lit(1.5)],
    ["true", lit(true)],
    ["false", lit(false)],
    ['"yes"', lit("yes")],
    ["'yes'", lit("yes")],
    ["!deployed", { kind: "not", operand: v("deployed") }],
    ["!!deployed", { kind: "not", operand: { kind: "not", operand: v("deployed") } }],
    ['env == "prod"', { kind: "compare", op: "==", left: v("env"), right: lit("prod") }],
    ["env != 'prod'", { kind: "compare", op: "!=", left: v("env"), right: lit("prod") }],
    ['"prod" == env', { kind: "compare", op: "==", left: lit("prod"), right: v("env") }],
    ["a == b", { kind: "compare", op: "==", left: v("a"), right: v("b") }],
    ["count == 10", { kind: "compare", op: "==", left: v("count"), right: lit(10) }],
    ["ok == true", { kind: "compare", op: "==", left: v("ok"), right: lit(true) }],
    ["(a) == (\"x\")", { kind: "compare", op: "==", left: v("a"), right: lit("x") }],
    ["a && b", { kind: "and", left: v("a"), right: v("b") }],
    ["a || b", { kind: "or", left: v("a"), right: v("b") }],
    ['!(env == "prod")', { kind: "not", operand: { kind: "compare", op: "==", left: v("env"), right: lit("prod") } }],
    ["((a))", v("a")],
    ["  a\t&&\nb  ", { kind: "and", left: v("a"), right: v("b") }],
    ["a==b&&!c", { kind: "and", left: { kind: "compare", op: "==", left: v("a"), right: v("b") }, right: { kind: "not", operand: v("c") } }],
  ])("parses %j", (source, ast) => {
    expect(parseCondition(source)).toEqual({ ok: true, ast });
  });

  it.each<[string, string]>([
    ['"say \\"hi\\""', 'say "hi"'],
    ["'it\\'s'", "it's"],
    ['"back\\\\slash"', "back\\slash"],
    ['"line\\nbreak"', "line\nbreak"],
    ["\"it's\"", "it's"],
    ["'say \"hi\"'", 'say "hi"'],
    ['""', ""],
  ])("reads the escapes in the string %s", (source, value) => {
    expect(parsed(source)).toEqual(lit(value));
  });

  it.each<[string, string]>([
    ["!a && b", "(!a) && b"],
    ["!a || b", "(!a) || b"],
    ["a && b || c", "(a && b) || c"],
    ["a || b && c", "a || (b && c)"],
    ["a && b && c", "(a && b) && c"],
    ["a || b || c", "(a || b) || c"],
    ['a == "x" && b != "y"', '(a == "x") && (b != "y")'],
    ['a == "x" || b == "y" && c', '(a == "x") || ((b == "y") && c)'],
    ["!(a || b) && c", "(!(a || b)) && c"],
  ])("gives %j the same tree as %j", (source, bracketed) => {
    expect(parsed(source)).toEqual(parsed(bracketed));
  });

  it.each<[string, string, number]>([
    ["", "empty condition", 0],
    ["   ", "empty condition", 0],
    ["a ==", 'expected a value after "==" (a quoted string, number, true, false or variable name)', 4],
    ["a != ", 'expected a value after "!=" (a quoted string, number, true, false or variable name)', 5],
    ["a == && b", 'expected a value after "==" (a quoted string, number, true, false or variable name), found "&&"', 5],
    ["(a", '"(" is never closed', 0],
    ["x && (a || (b)", '"(" is never closed', 5],
    ["a)", 'unexpected ")"', 1],
    [")", 'unexpected ")"', 0],
    ['a == "abc', "unterminated string", 5],
    ["'abc\\'", "unterminated string", 0],
    ["a @ b", 'unexpected character "@"', 2],
    ["a == 'x' #", 'unexpected character "#"', 9],
    ["a b", 'expected "&&", "||" or the end of the condition, found "b"', 2],
    ['a "b"', 'expected "&&", "||" or the end of the condition, found the string "b"', 2],
    ["a and b", 'expected "&&", "||" or the end of the condition, found "and"; use "&&"', 2],
    ["a OR b", 'expected "&&", "||" or the end of the condition, found "OR"; use "||"', 2],
    ["(a b)", 'expected "&&", "||" or ")", found "b"', 3],
    ["a = b", '"=" is not an operator; use "=="', 2],
    ["a === b", '"===" is not an operator; use "=="', 2],
    ["a !== b", '"!==" is not an operator; use "!="', 2],
    ["a & b", '"&" is not an operator; use "&&"', 2],
    ["a | b", '"|" is not an operator; use "||"', 2],
    ["n > 3", '">" is not an operator; conditions compare only with "==" and "!="', 2],
    ["a == b == c", 'cannot compare the result of a comparison; join comparisons with "&&" or "||"', 7],
    ["a == (b == c)", 'cannot compare the result of a comparison; join comparisons with "&&" or "||"', 5],
    ['!a == "x"', 'cannot compare a negation with "=="; to negate a comparison write !(a == "v")', 3],
    ["a != !b", 'cannot compare a negation with "!="; to negate a comparison write !(a != "v")', 5],
    ["(a && b) == c", 'cannot compare the result of "&&" with "=="; compare a variable or a value', 9],
    ["a == (b || c)", 'cannot compare the result of "||" with "=="; compare a variable or a value', 5],
    ["a &&", 'expected a condition after "&&"', 4],
    ["a || )", 'expected a condition after "||", found ")"', 5],
    ["!", 'expected a condition after "!"', 1],
    ["(", 'expected a condition after "("', 1],
    ["&& a", 'expected a condition before "&&"', 0],
    ["== a", 'expected a condition before "=="', 0],
    ["()", 'empty parentheses; put a condition between "(" and ")"', 0],
    ["'C:\\temp'", 'unknown escape "\\t" in a string; the escapes are \\" \\\' \\\\ and \\n', 3],
    ["env == \u201Cprod\u201D", 'unexpected character "\u201C"; quote strings with " or \'', 7],
    ["a == \u{1F600}", 'unexpected character "\u{1F600}"', 5],
    [`${"(".repeat(65)}a${")".repeat(65)}`, "nesting deeper than 64 levels", 64],
    [`${"!".repeat(65)}a`, "nesting deeper than 64 levels", 64],
    [`${"!(".repeat(33)}a${")".repeat(33)}`, "nesting deeper than 64 levels", 64],
  ])("rejects %j with %j at offset %i", (source, message, offset) => {
    expect(parseCondition(source)).toEqual({ ok: false, message, offset });
  });

  it("reports the first problem in reading order", () => {
    expect(parseCondition("a b @")).toMatchObject({ offset: 2 });
    expect(parseCondition("a @ b c")).toMatchObject({ offset: 2 });
  });

  it("accepts exactly 64 levels of nesting", () => {
    expect(parsed(`${"(".repeat(64)}a${")".repeat(64)}`)).toEqual(v("a"));
    expect(parsed(`${"!".repeat(64)}a`).kind).toBe("not");
  });

  it("rejects 100,000 open parentheses without overflowing the stack", () => {
    expect(parseCondition("(".repeat(100_000))).toEqual({ ok: false, message: "nesting deeper than 64 levels", offset: 64 });
  });

  it("parses, evaluates, explains and prints a chain of 100,000 operands", () => {
    const source = Array.from({ length: 100_000 }, (_, i) => `v${i}`).join(" && ");
    const ast = parsed(source);
    expect(evaluateCondition(ast, () => "yes")).toBe(true);
    expect(evaluateCondition(ast, (name) => (name === "v99999" ? undefined : "yes"))).toBe(false);
    expect(explainCondition(ast, (name) => (name === "v500" ? "no" : "yes"))).toBe('v500 is "no"');
    expect(formatCondition(ast)).toBe(source);
    expect(conditionVariables(ast)).toHaveLength(100_000);
  });
});

describe("tokenizeCondition", () => {
  it("gives every token its 0-based offset and ends with an end token", () => {
    const result = tokenizeCondition(' !(a-b == "x y") ||c');
    expect(result.ok && result.tokens.map((token) => [token.kind, token.offset, token.text])).toEqual([
      ["!", 1, "!"],
      ["(", 2, "("],
      ["operand", 3, "a-b"],
      ["==", 7, "=="],
      ["operand", 10, '"x y"'],
      [")", 15, ")"],
      ["||", 17, "||"],
      ["operand", 19, "c"],
      ["end", 20, ""],
    ]);
  });

  it.each<[string, ConditionNode]>([
    ["-3", lit(-3)],
    ["1.5", lit(1.5)],
    ["007", lit(7)],
    ["1.5.3", v("1.5.3")],
    ["42abc", v("42abc")],
    ["-x", v("-x")],
    ["1.", v("1.")],
    ["True", v("True")],
    ["a-3", v("a-3")],
  ])("reads the word %j as %j", (source, operand) => {
    const result = tokenizeCondition(source);
    expect(result.ok && result.tokens[0]).toMatchObject({ kind: "operand", operand });
  });
});

describe("isTruthy", () => {
  it.each<[VarValue | undefined, boolean]>([
    [undefined, false],
    ["", false],
    ["   ", false],
    ["false", false],
    ["FALSE", false],
    [" False ", false],
    ["0", false],
    ["no", false],
    ["No", false],
    ["off", false],
    ["OFF", false],
    [false, false],
    [0, false],
    [true, true],
    [1, true],
    [-1, true],
    [0.5, true],
    ["true", true],
    ["1", true],
    ["yes", true],
    ["0.0", true],
    ["none", true],
    ["failed", true],
  ])("treats %j as %s", (value, truthy) => {
    expect(isTruthy(value)).toBe(truthy);
  });
});

describe("evaluateCondition", () => {
  const vars = lookupFrom({
    env: "staging",
    count: "10.0",
    ten: 10,
    name: "Alice",
    yes: true,
    off: "off",
    version: "1.10",
    padded: " 10",
    empty: "",
  });

  it.each<[string, boolean]>([
    ["env", true],
    ["missing", false],
    ["off", false],
    ["!missing", true],
    ["!!env", true],
    ['env == "staging"', true],
    ['env == "Staging"', false],
    ['env != "production"', true],
    ['"staging" == env', true],
    ["count == 10", true],
    ["count == 10.0", true],
    ["count != 10", false],
    ["ten == count", true],
    ['count == "10"', false],
    ['count == "10.0"', true],
    ["ten == 10", true],
    ['ten == "10"', true],
    ["version == 1.1", true],
    ['version == "1.1"', false],
    ["padded == 10", false],
    ['padded == " 10"', true],
    ['missing == ""', true],
    ["missing == empty", true],
    ["missing == 0", false],
    ['yes == "true"', true],
    ["yes == true", true],
    ["name == true", false],
    ["10 == 10.00", true],
    ['"10.0" == 10', false],
    ['"10" == 10', true],
    ["-0 == 0", true],
    ["true", true],
    ["false", false],
    ['"no"', false],
    ["0", false],
    ["env && count", true],
    ["env && missing", false],
    ["missing || off", false],
    ["missing || env", true],
    ['!(env == "staging") || name == "Alice" && yes', true],
    ["(missing || env) && !off", true],
  ])("evaluates %j as %s", (source, value) => {
    expect(evaluateCondition(parsed(source), vars)).toBe(value);
  });

  it("short-circuits: the right side of a decided && or || is never looked up", () => {
    const seen: string[] = [];
    const lookup: Lookup = (name) => {
      seen.push(name);
      return name === "on" ? "1" : undefined;
    };
    evaluateCondition(parsed("off && x"), lookup);
    evaluateCondition(parsed("on || y"), lookup);
    expect(seen).toEqual(["off", "on"]);
  });
});

describe("conditionVariables", () => {
  it.each<[string, string[]]>([
    ["true", []],
    ["a", ["a"]],
    ['!(b == "x") || a && b', ["b", "a"]],
    ["c == a || a == c || d", ["c", "a", "d"]],
    ["previous_step == \"failed\" && steps.build", ["previous_step", "steps.build"]],
  ])("lists the variables of %j in order of appearance", (source, names) => {
    expect(conditionVariables(parsed(source))).toEqual(names);
  });
});

describe("explainCondition", () => {
  const vars = lookupFrom({ env: "staging", x: "1", flag: "false", done: "true", count: "10.0", n: 3, on: true, same: "staging" });

  it.each<[string, string]>([
    ["tests_pass", "tests_pass is unset"],
    ["flag", 'flag is "false"'],
    ["done", 'done is "true"'],
    ["n", "n is 3"],
    ["on", "on is true"],
    ['env == "production"', 'env is "staging", not "production"'],
    ['env == "staging"', 'env is "staging"'],
    ['env != "production"', 'env is "staging", not "production"'],
    ['env != "staging"', 'env is "staging"'],
    ['"production" == env', 'env is "staging", not "production"'],
    ['region == "eu"', 'region is unset, not "eu"'],
    ["count == 10", 'count is "10.0"'],
    ["count == 9", 'count is "10.0", not 9'],
    ["env == same", 'env and same are both "staging"'],
    ["env == x", 'env is "staging", x is "1"'],
    ['"a" == "b"', '"a" does not equal "b"'],
    ["false", "false is always false"],
    ['"yes"', '"yes" is always true'],
    ["!x", 'x is "1"'],
    ["!missing", "missing is unset"],
    ['!(env == "staging")', 'env is "staging"'],
    ["x && missing", "missing is unset"],
    ["missing && x", "missing is unset"],
    ["x && done", 'x is "1" and done is "true"'],
    ["x || missing", 'x is "1"'],
    ["missing || x", 'x is "1"'],
    ["missing || flag", 'missing is unset and flag is "false"'],
    ["x && x", 'x is "1"'],
    ['(missing || flag) && x', 'missing is unset and flag is "false"'],
    ['env == "prod" || x && missing', 'env is "staging", not "prod" and missing is unset'],
  ])("explains %j as %j", (source, reason) => {
    expect(explainCondition(parsed(source), vars)).toBe(reason);
  });

  it("shortens long values", () => {
    const reason = explainCondition(parsed("log"), () => "x".repeat(500));
    expect(reason).toBe(`log is "${"x".repeat(40)}…"`);
  });
});

describe("formatCondition", () => {
  it.each<[string, string]>([
    ["a", "a"],
    ["  a&&b ", "a && b"],
    ["((a))", "a"],
    ["(a && b) || c", "a && b || c"],
    ["a && (b || c)", "a && (b || c)"],
    ["a && (b && c)", "a && (b && c)"],
    ["(a && b) && c", "a && b && c"],
    ["!(a)", "!a"],
    ["!(a==b)", "!(a == b)"],
    ["!(!a)", "!!a"],
    ["x == 'it\\'s'", "x == \"it's\""],
    ['x == "a\\\\b\\n\\"c\\""', 'x == "a\\\\b\\n\\"c\\""'],
    ["n == 1.50", "n == 1.5"],
    ["n == -0", "n == -0"],
    ["true != false", "true != false"],
  ])("prints %j as %j", (source, text) => {
    expect(formatCondition(parsed(source))).toBe(text);
  });

  it.each<[number, string]>([
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [-2.5e-7, "-0.00000025"],
  ])("writes the number %d without an exponent", (value, text) => {
    const ast: ConditionNode = { kind: "compare", op: "==", left: v("n"), right: { kind: "literal", value } };
    expect(formatCondition(ast)).toBe(`n == ${text}`);
    expect(parsed(formatCondition(ast))).toEqual(ast);
  });

  it("keeps the parentheses a right-nested chain needs to parse back the same", () => {
    const ast: ConditionNode = { kind: "or", left: v("a"), right: { kind: "or", left: v("b"), right: v("c") } };
    expect(parsed(formatCondition(ast))).toEqual(ast);
  });
});
