export type { ConditionNode, Operand } from "./ast.ts";
export { parseCondition, MAX_CONDITION_DEPTH, type ParseConditionResult } from "./parse-condition.ts";
export { tokenizeCondition, type Token } from "./tokenize-condition.ts";
export { evaluateCondition, isTruthy, conditionVariables, type Lookup } from "./evaluate-condition.ts";
export { explainCondition, formatCondition } from "./explain-condition.ts";
