/** sop-runner as a library (SPEC §5.1). */
export { SopRunner, type RunOptions, type DecisionOptions, type SopSummary } from "./app/sop-runner.ts";
export { createSopRunner, type SopRunnerOptions } from "./compose/open-deployment.ts";
export { SopError, type SopErrorCode } from "./app/sop-error.ts";
export type { SopStatus, SopMetrics } from "./app/sop-status.ts";
export type { AuditRecord } from "./core/audit/audit-record.ts";
export type { Plan, PlannedStep } from "./core/plan/plan-run.ts";
export type { RunState, RunStatus, StepStatus } from "./core/run/run-state.ts";
export type { RunEvent } from "./core/run/effects.ts";
export type { SopDefinition, Diagnostic } from "./core/sop/types.ts";
