/**
 * Approval requests of every shape for the platforms' limit properties: many steps, long and evil
 * titles, descriptions and commands (fences, mentions, entities, emoji), many long variables and
 * a long change, rendered by checkpointMessage as the notifier would post them.
 */
import fc from "fast-check";
import type { ChatMessage } from "../../src/chat/chat-message.ts";
import type { DefinitionChange, DiffLine } from "../../src/chat/definition-change.ts";
import { checkpointMessage } from "../../src/chat/run-messages.ts";
import { auditRecord } from "../../src/core/audit/audit-record.ts";
import { definition, step } from "../helpers/definitions.ts";
import { Play } from "../helpers/play-run.ts";

const piece = fc.constantFrom("a", " ", "&", "<", ">", "\n", "😀", "`", "```", "*", "slack:U123 ", "slack-group:S0OPS ", "discord:7 ", "discord-role:55 ", "<!channel>");
const text = (max: number) => fc.tuple(piece, fc.integer({ min: 0, max })).map(([p, n]) => p.repeat(Math.max(0, Math.floor(n / p.length))));
const mixed = (max: number) => fc.array(text(max), { maxLength: 3 }).map((parts) => parts.join("x"));

const stepShape = fc.record({
  title: mixed(300).map((t) => t.replace(/\n/g, " ") || "untitled"),
  description: mixed(3000),
  commands: fc.array(mixed(8000), { maxLength: 5 }),
  waits: fc.boolean(),
});

const diffLine: fc.Arbitrary<DiffLine> = fc.record({ kind: fc.constantFrom("section", "gap", "add", "remove", "same"), text: mixed(400) });

export const requestMessage: fc.Arbitrary<ChatMessage> = fc.record({
  steps: fc.array(stepShape, { minLength: 1, maxLength: 25 }),
  vars: fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/), mixed(500), { maxKeys: 40 }),
  change: fc.option(fc.array(diffLine, { maxLength: 60 }), { nil: undefined }),
  critical: fc.boolean(),
}).map(({ steps, vars, change, critical }) => {
  const def = definition(steps.map((s, i) => step(i + 1, s.title, {
    description: s.description, commands: s.commands, requiresApproval: i === 0 || s.waits,
  })), { priority: critical ? "critical" : "medium", approval: { approvers: ["slack-group:S0OPS", "discord-role:55"], minApprovals: 2, allowSelfApproval: false, timeoutSecs: 3600, onTimeout: "deny" } });
  const play = new Play(def, { vars }).runToRest();
  const stored = { run: play.run, definition: def, dir: "/sops/test-sop" };
  const record = auditRecord(def, play.run, (t) => t);
  const cp = play.run.checkpoints.find((c) => c.status === "pending")!;
  const changes = new Map<string, DefinitionChange>();
  if (change) {
    changes.set(cp.id, {
      since: { runId: "0badc0de-0000-4000-8000-000000000000", version: "0.9.0", decision: "approved", decidedAt: 0 },
      version: def.version, lines: change, changed: change.filter((l) => l.kind === "add" || l.kind === "remove").length, tooLarge: false,
    });
  }
  return checkpointMessage({ stored, record, changes }, cp, { runUrl: (id) => `https://bot.example/runs/${id}` });
});

/** Fenced code blocks open and close in pairs: a cut never leaves the rest of a message as code. */
export const fencesBalanced = (t: string): boolean => (t.split("```").length - 1) % 2 === 0;
