import { isSecretName } from "../secret-names.ts";
import type { VarValue } from "../sop/types.ts";
import type { ConditionNode, Operand } from "./ast.ts";
import { chainOperands, evaluateCondition, isTruthy, operandValue, operandsEqual, type Lookup } from "./evaluate-condition.ts";

const SHOWN_TEXT_LENGTH = 40;

/**
 * A short reason why the condition evaluates as it does, for plans and audit lines, e.g.
 * `tests_pass is unset` or `environment is "staging", not "production"`. Of `&&` and `||` only
 * the operands that decide the result are explained; several facts are joined with " and ",
 * since each of them holds (`a || b` is false because a is unset and b is unset).
 */
export function explainCondition(ast: ConditionNode, lookup: Lookup): string {
  return [...new Set(facts(ast, lookup))].join(" and ");
}

function facts(ast: ConditionNode, lookup: Lookup): string[] {
  let node = ast;
  // A negation is decided by its operand, so the operand's reason is the reason.
  while (node.kind === "not") node = node.operand;
  switch (node.kind) {
    case "var":
      return [describeVariable(node.name, lookup(node.name))];
    case "literal":
      return [`${showValue(node.value)} is always ${isTruthy(node.value) ? "true" : "false"}`];
    case "compare":
      return [explainComparison(node.left, node.right, lookup)];
    case "and":
    case "or": {
      // The first operand with the short-circuit value decides alone; otherwise all of them do.
      const deciding = node.kind === "or";
      const operands = chainOperands(node);
      const decider = operands.find((operand) => evaluateCondition(operand, lookup) === deciding);
      return decider === undefined ? operands.flatMap((operand) => facts(operand, lookup)) : facts(decider, lookup);
    }
  }
}

function explainComparison(left: Operand, right: Operand, lookup: Lookup): string {
  const equal = operandsEqual(left, right, lookup);
  const [first, second] = left.kind === "literal" && right.kind === "var" ? [right, left] : [left, right];
  if (first.kind === "var" && second.kind === "literal") {
    const fact = describeVariable(first.name, lookup(first.name));
    return equal ? fact : `${fact}, not ${showValue(second.value)}`;
  }
  if (first.kind === "var" && second.kind === "var") {
    const firstShown = showVariable(first.name, lookup(first.name));
    if (equal && firstShown === showVariable(second.name, lookup(second.name))) {
      return `${first.name} and ${second.name} are both ${firstShown}`;
    }
    return `${describeVariable(first.name, lookup(first.name))}, ${describeVariable(second.name, lookup(second.name))}`;
  }
  const verb = equal ? "equals" : "does not equal";
  return `${showValue(operandValue(first, lookup))} ${verb} ${showValue(operandValue(second, lookup))}`;
}

function describeVariable(name: string, value: VarValue | undefined): string {
  return `${name} is ${showVariable(name, value)}`;
}

/** A secret-named variable's value never appears in a reason (reasons are stored and shown). */
function showVariable(name: string, value: VarValue | undefined): string {
  return value !== undefined && isSecretName(name) ? '"***"' : showValue(value);
}

function showValue(value: VarValue | undefined): string {
  if (value === undefined) return "unset";
  if (typeof value !== "string") return String(value);
  return JSON.stringify(value.length > SHOWN_TEXT_LENGTH ? `${value.slice(0, SHOWN_TEXT_LENGTH)}…` : value);
}

const PRECEDENCE: Readonly<Record<ConditionNode["kind"], number>> = {
  or: 1,
  and: 2,
  compare: 3,
  not: 4,
  var: 4,
  literal: 4,
};

/**
 * Canonical source text of a condition, with only the parentheses it needs. For any AST that
 * parseCondition can produce (finite numbers, valid names), parsing the result gives it back.
 */
export function formatCondition(ast: ConditionNode): string {
  switch (ast.kind) {
    case "var":
      return ast.name;
    case "literal":
      return formatLiteral(ast.value);
    case "not":
      return `!${formatAtLeast(ast.operand, PRECEDENCE.not)}`;
    case "compare":
      return `${formatCondition(ast.left)} ${ast.op} ${formatCondition(ast.right)}`;
    case "and":
    case "or": {
      // Walk the left spine iteratively: that is where long chains put their depth.
      const rights: ConditionNode[] = [];
      let leftmost: ConditionNode = ast;
      while ((leftmost.kind === "and" || leftmost.kind === "or") && leftmost.kind === ast.kind) {
        rights.push(leftmost.right);
        leftmost = leftmost.left;
      }
      const level = PRECEDENCE[ast.kind];
      // The operators are left-associative, so a same-operator right operand keeps its parentheses.
      const parts = [formatAtLeast(leftmost, level), ...rights.reverse().map((right) => formatAtLeast(right, level + 1))];
      return parts.join(ast.kind === "and" ? " && " : " || ");
    }
  }
}

function formatAtLeast(node: ConditionNode, level: number): string {
  const text = formatCondition(node);
  return PRECEDENCE[node.kind] >= level ? text : `(${text})`;
}

function formatLiteral(value: string | number | boolean): string {
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") return plainDecimal(value);
  return `"${value.replace(/[\\"\n]/g, (char) => (char === "\n" ? "\\n" : `\\${char}`))}"`;
}

// The language has no exponent notation, so 1e21 and 5e-324 are written out in full.
function plainDecimal(value: number): string {
  if (Object.is(value, -0)) return "-0";
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
