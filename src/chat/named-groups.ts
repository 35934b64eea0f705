/**
 * The groups (`slack-group:S…`) that could matter to a decision: those named as approvers by a
 * loaded SOP, by a run that waits (it pinned its own definition), or in SOP_ADMINS. An adapter
 * asks its platform about these only, not about every group a person is in. With `sop`, only
 * that SOP's definition and waiting runs count (a `/approve NAME` can only decide those).
 */
import type { SopRunner } from "../app/sop-runner.ts";

export async function namedGroups(runner: SopRunner, prefix: string, admins: readonly string[], sop?: string): Promise<string[]> {
  const names = new Set<string>();
  const add = (ids: readonly string[]) => { for (const id of ids) if (id.startsWith(prefix)) names.add(id); };
  add(admins);
  for (const { definition } of runner.catalog.list()) {
    if (sop !== undefined && definition.name !== sop) continue;
    add(definition.approval.approvers);
    for (const gate of definition.gates) if (gate.type === "approval") add(gate.policy.approvers);
  }
  for (const run of await runner.store.list({ statuses: ["awaiting_approval", "awaiting_manual"], ...(sop !== undefined ? { sop } : {}) })) {
    for (const cp of run.checkpoints) if (cp.status === "pending") add(cp.approvers);
  }
  return [...names];
}
