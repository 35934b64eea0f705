import type { ConditionNode, Operand } from "./ast.ts";
import { readToken, type Token } from "./tokenize-condition.ts";

export type ParseConditionResult =
  | { ok: true; ast: ConditionNode }
  | { ok: false; message: string; offset: number };

/** Open parentheses plus pending `!`s; bounds the recursion whatever the input. */
export const MAX_CONDITION_DEPTH = 64;

// Thrown only inside this module to unwind the recursive descent; parseCondition catches it.
class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Parses the text of an `[if: …]` (SPEC §2.3). Never throws: a syntax error comes back with an
 * actionable message and the 0-based offset into `source` where the problem is.
 *
 * Grammar, loosest first:
 *   or         := and ("||" and)*
 *   and        := comparison ("&&" comparison)*
 *   comparison := unary (("==" | "!=") unary)?     both sides must be a variable or a literal
 *   unary      := "!" unary | "(" or ")" | variable | literal
 */
export function parseCondition(source: string): ParseConditionResult {
  try {
    return { ok: true, ast: new Parser(source).parse() };
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { ok: false, message: error.message, offset: error.offset };
    throw error;
  }
}

class Parser {
  private token: Token;
  private previous: Token | undefined;
  private depth = 0;

  constructor(private readonly source: string) {
    this.token = this.read(0);
  }

  parse(): ConditionNode {
    const ast = this.parseOr();
    if (this.token.kind === ")") throw new ConditionSyntaxError('unexpected ")"', this.token.offset);
    if (this.token.kind !== "end") {
      throw new ConditionSyntaxError(
        `expected "&&", "||" or the end of the condition, found ${describe(this.token)}${wordHint(this.token)}`,
        this.token.offset,
      );
    }
    return ast;
  }

  private parseOr(): ConditionNode {
    let left = this.parseAnd();
    while (this.token.kind === "||") {
      this.advance();
      left = { kind: "or", left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): ConditionNode {
    let left = this.parseComparison();
    while (this.token.kind === "&&") {
      this.advance();
      left = { kind: "and", left, right: this.parseComparison() };
    }
    return left;
  }

  private parseComparison(): ConditionNode {
    const left = this.parseUnary();
    const op = this.token;
    if (op.kind !== "==" && op.kind !== "!=") return left;
    if (!isOperand(left)) throw new ConditionSyntaxError(notComparable(left, op.kind), op.offset);
    this.advance();
    const rightStart = this.token.offset;
    const right = this.parseUnary();
    if (!isOperand(right)) throw new ConditionSyntaxError(notComparable(right, op.kind), rightStart);
    if (this.token.kind === "==" || this.token.kind === "!=") {
      throw new ConditionSyntaxError(notComparable({ kind: "compare", op: op.kind, left, right }, this.token.kind), this.token.offset);
    }
    return { kind: "compare", op: op.kind, left, right };
  }

  private parseUnary(): ConditionNode {
    const start = this.token;
    if (start.kind === "operand") {
      this.advance();
      return start.operand;
    }
    if (start.kind !== "!" && start.kind !== "(") throw this.expectedOperand();
    this.depth++;
    if (this.depth > MAX_CONDITION_DEPTH) {
      throw new ConditionSyntaxError(`nesting deeper than ${MAX_CONDITION_DEPTH} levels`, start.offset);
    }
    this.advance();
    let node: ConditionNode;
    if (start.kind === "!") {
      node = { kind: "not", operand: this.parseUnary() };
    } else {
      node = this.parseOr();
      if (this.token.kind === "end") throw new ConditionSyntaxError('"(" is never closed', start.offset);
      if (this.token.kind !== ")") {
        throw new ConditionSyntaxError(`expected "&&", "||" or ")", found ${describe(this.token)}${wordHint(this.token)}`, this.token.offset);
      }
      this.advance();
    }
    this.depth--;
    return node;
  }

  private expectedOperand(): ConditionSyntaxError {
    const found = this.token;
    const previous = this.previous;
    const foundSuffix = found.kind === "end" ? "" : `, found ${describe(found)}`;
    if (previous === undefined) {
      if (found.kind === "end") return new ConditionSyntaxError("empty condition", 0);
      if (found.kind === ")") return new ConditionSyntaxError('unexpected ")"', found.offset);
      return new ConditionSyntaxError(`expected a condition before "${found.text}"`, found.offset);
    }
    if (previous.kind === "==" || previous.kind === "!=") {
      return new ConditionSyntaxError(
        `expected a value after "${previous.kind}" (a quoted string, number, true, false or variable name)${foundSuffix}`,
        found.offset,
      );
    }
    if (previous.kind === "(" && found.kind === ")") {
      return new ConditionSyntaxError('empty parentheses; put a condition between "(" and ")"', previous.offset);
    }
    return new ConditionSyntaxError(`expected a condition after "${previous.text}"${foundSuffix}`, found.offset);
  }

  private advance(): void {
    this.previous = this.token;
    this.token = this.read(this.token.offset + this.token.text.length);
  }

  private read(from: number): Token {
    const token = readToken(this.source, from);
    if (token.kind === "error") throw new ConditionSyntaxError(token.message, token.offset);
    return token;
  }
}

function isOperand(node: ConditionNode): node is Operand {
  return node.kind === "var" || node.kind === "literal";
}

function notComparable(node: ConditionNode, op: "==" | "!="): string {
  switch (node.kind) {
    case "compare":
      return `cannot compare the result of a comparison; join comparisons with "&&" or "||"`;
    case "not":
      return `cannot compare a negation with "${op}"; to negate a comparison write !(a ${op} "v")`;
    default:
      return `cannot compare the result of "${node.kind === "and" ? "&&" : "||"}" with "${op}"; compare a variable or a value`;
  }
}

function describe(token: Token): string {
  if (token.kind === "end") return "the end of the condition";
  const text = token.text.length > 24 ? `${token.text.slice(0, 24)}…` : token.text;
  if (token.kind === "operand" && token.operand.kind === "literal" && typeof token.operand.value === "string") {
    return `the string ${text}`;
  }
  return `"${text}"`;
}

// People coming from Python or SQL write `and` / `or`; those parse as variable names.
function wordHint(token: Token): string {
  if (token.kind !== "operand" || token.operand.kind !== "var") return "";
  const word = token.operand.name.toLowerCase();
  if (word === "and") return '; use "&&"';
  if (word === "or") return '; use "||"';
  return "";
}
