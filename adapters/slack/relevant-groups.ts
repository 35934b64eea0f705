/**
 * Which `slack-group:S…` one request could depend on, so a click or a command looks up as few
 * groups as it can (usergroups.users.list is rate-limited, and a Deny click must open its form
 * within the 3 seconds its trigger_id lives):
 * - a click decides one run: the approvers of its pending checkpoints, and the admins;
 * - `/approve NAME` and `/deny NAME`: that SOP's approvers and its waiting runs', and the admins;
 * - `/sop cancel`: the approvers of the definitions the runs it may cancel pinned, and the admins;
 * - the other commands depend on no group at all.
 */
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { ChatCommand } from "../../src/chat/command-text.ts";
import { RUN_ID_SHAPE } from "../../src/core/names.ts";
import { isActive, WAITING_STATUSES } from "../../src/core/run/run-state.ts";
import { GROUP_PREFIX } from "./slack-groups.ts";

export type GroupScope = { run: string } | { command: ChatCommand };

export async function relevantGroups(runner: SopRunner, admins: readonly string[], scope: GroupScope): Promise<string[]> {
  if ("run" in scope) return groupsOfClick(runner, admins, scope.run);
  const cmd = scope.command;
  switch (cmd.kind) {
    case "approve":
    case "deny":
      return groupsOfSop(runner, admins, cmd.sop);
    case "cancel":
      return groupsOfCancel(runner, admins, cmd.target);
    default:
      return [];
  }
}

const groupsIn = (...lists: (readonly string[])[]): string[] => [...new Set(lists.flat().filter((id) => id.startsWith(GROUP_PREFIX)))];

/** What `/approve NAME` can decide: the SOP's approvers (and its gates'), and those its waiting runs pinned. */
async function groupsOfSop(runner: SopRunner, admins: readonly string[], sop: string): Promise<string[]> {
  const definition = runner.catalog.get(sop)?.definition;
  const gates = definition?.gates.flatMap((g) => (g.type === "approval" ? [g.policy.approvers] : [])) ?? [];
  const waiting = await runner.store.list({ sop, statuses: WAITING_STATUSES });
  const pending = waiting.flatMap((r) => r.checkpoints.filter((cp) => cp.status === "pending").map((cp) => cp.approvers));
  return groupsIn(admins, definition?.approval.approvers ?? [], ...gates, ...pending);
}

/** Nothing pending: the engine refuses whoever clicks, so no group matters. */
async function groupsOfClick(runner: SopRunner, admins: readonly string[], runId: string): Promise<string[]> {
  const pending = (await runner.store.get(runId))?.run.checkpoints.filter((cp) => cp.status === "pending") ?? [];
  return pending.length ? groupsIn(admins, ...pending.map((cp) => cp.approvers)) : [];
}

/** A run may be cancelled by its requester, the approvers its own definition names, and admins. */
async function groupsOfCancel(runner: SopRunner, admins: readonly string[], target: string): Promise<string[]> {
  const ids = RUN_ID_SHAPE.test(target)
    ? [target]
    : (await runner.store.list({ sop: target })).filter((r) => isActive(r.status) || r.status === "queued").map((r) => r.id);
  const stored = await Promise.all(ids.map((id) => runner.store.get(id)));
  return groupsIn(admins, ...stored.map((s) => s?.definition.approval.approvers ?? []));
}
