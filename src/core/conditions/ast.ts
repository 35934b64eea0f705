/** The condition language's syntax tree (SPEC §2.3). Plain data, so a pinned definition can be stored. */
export type Operand =
  | { kind: "var"; name: string }
  | { kind: "literal"; value: string | number | boolean };

export type ConditionNode =
  | Operand
  | { kind: "not"; operand: ConditionNode }
  | { kind: "and" | "or"; left: ConditionNode; right: ConditionNode }
  | { kind: "compare"; op: "==" | "!="; left: Operand; right: Operand };
