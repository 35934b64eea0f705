import type { VarValue } from "../sop/types.ts";
import type { ConditionNode, Operand } from "./ast.ts";

/** The value of a run variable, or undefined when it is unset. */
export type Lookup = (name: string) => VarValue | undefined;

export type ChainNode = Extract<ConditionNode, { kind: "and" | "or" }>;

const FALSY_TEXT = new Set(["", "false", "0", "no", "off"]);
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Falsy: unset, `""`, `"false"`, `"0"`, `"no"`, `"off"` (case-insensitive, surrounding
 * whitespace ignored), `false` and `0`. Everything else is truthy.
 */
export function isTruthy(value: VarValue | undefined): boolean {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  return !FALSY_TEXT.has(value.trim().toLowerCase());
}

/** Evaluates a parsed condition against the run's variables (SPEC §2.3). Never throws. */
export function evaluateCondition(ast: ConditionNode, lookup: Lookup): boolean {
  let node = ast;
  let negate = false;
  while (node.kind === "not") {
    negate = !negate;
    node = node.operand;
  }
  return negate !== evaluatePositive(node, lookup);
}

function evaluatePositive(node: Exclude<ConditionNode, { kind: "not" }>, lookup: Lookup): boolean {
  switch (node.kind) {
    case "var":
      return isTruthy(lookup(node.name));
    case "literal":
      return isTruthy(node.value);
    case "compare":
      return operandsEqual(node.left, node.right, lookup) === (node.op === "==");
    case "and":
      return chainOperands(node).every((operand) => evaluateCondition(operand, lookup));
    case "or":
      return chainOperands(node).some((operand) => evaluateCondition(operand, lookup));
  }
}

/** The value an operand stands for: a literal's own value, or the variable's (undefined = unset). */
export function operandValue(operand: Operand, lookup: Lookup): VarValue | undefined {
  return operand.kind === "literal" ? operand.value : lookup(operand.name);
}

/**
 * `==` semantics: numeric when both sides are numbers, otherwise exact string comparison with
 * booleans as "true"/"false" and unset as "". A variable holding "10" counts as a number; a
 * quoted literal never does, so `version == "1.10"` stays a string comparison.
 */
export function operandsEqual(left: Operand, right: Operand, lookup: Lookup): boolean {
  const leftValue = operandValue(left, lookup);
  const rightValue = operandValue(right, lookup);
  const leftNumber = asNumber(left, leftValue);
  const rightNumber = asNumber(right, rightValue);
  if (leftNumber !== undefined && rightNumber !== undefined) return leftNumber === rightNumber;
  return asText(leftValue) === asText(rightValue);
}

function asNumber(operand: Operand, value: VarValue | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || operand.kind !== "var" || !DECIMAL.test(value)) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function asText(value: VarValue | undefined): string {
  return value === undefined ? "" : String(value);
}

/**
 * The operands of a run of the same `&&` or `||`, left to right. `a && b && c` parses as a
 * left-deep tree as deep as the chain is long; walking it iteratively keeps a long condition
 * from overflowing the stack.
 */
export function chainOperands(node: ChainNode): ConditionNode[] {
  const operands: ConditionNode[] = [];
  const stack: ConditionNode[] = [node];
  for (let current = stack.pop(); current !== undefined; current = stack.pop()) {
    if ((current.kind === "and" || current.kind === "or") && current.kind === node.kind) {
      stack.push(current.right, current.left);
    } else {
      operands.push(current);
    }
  }
  return operands;
}

/** Distinct variable names the condition reads, in order of first appearance. */
export function conditionVariables(ast: ConditionNode): string[] {
  const names = new Set<string>();
  const stack: ConditionNode[] = [ast];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    switch (node.kind) {
      case "var":
        names.add(node.name);
        break;
      case "literal":
        break;
      case "not":
        stack.push(node.operand);
        break;
      default:
        stack.push(node.right, node.left);
    }
  }
  return [...names];
}
