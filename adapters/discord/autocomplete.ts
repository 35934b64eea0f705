/**
 * Suggestions while a person types an option: SOP names, and for `run` the runs of the chosen
 * SOP that wait for a decision, so nobody has to copy a run id. Discord shows at most 25.
 */
import type { ApplicationCommandOptionChoiceData } from "discord.js";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { OPEN_STATUSES, type RunState } from "../../src/core/run/run-state.ts";
import { shortId } from "../../src/chat/run-messages.ts";

const MAX_CHOICES = 25;

export interface Typing {
  /** The option being typed: name, run, target. */
  option: string;
  typed: string;
  /** The SOP chosen in the `name` option, for `run`. */
  sop?: string;
}

export async function suggestions(runner: SopRunner, t: Typing): Promise<ApplicationCommandOptionChoiceData<string>[]> {
  const typed = t.typed.trim().toLowerCase();
  switch (t.option) {
    case "name":
      return sopChoices(runner, typed);
    case "run": {
      const runs = await runner.waiting(t.sop);
      return runChoices(runs, typed);
    }
    case "target": {
      // Runs worth a status or a cancel, queued ones too. Asked of the store by status: this runs
      // at every keystroke, and ended runs pile up by the thousand.
      const active = await runner.runs({ statuses: OPEN_STATUSES });
      return [...sopChoices(runner, typed), ...runChoices(active, typed)].slice(0, MAX_CHOICES);
    }
    default:
      return [];
  }
}

function sopChoices(runner: SopRunner, typed: string): ApplicationCommandOptionChoiceData<string>[] {
  return runner.list()
    .map((s) => s.name)
    .filter((name) => name.toLowerCase().includes(typed))
    .sort((a, b) => Number(!a.toLowerCase().startsWith(typed)) - Number(!b.toLowerCase().startsWith(typed)) || a.localeCompare(b))
    .slice(0, MAX_CHOICES)
    .map((name) => ({ name, value: name }));
}

function runChoices(runs: RunState[], typed: string): ApplicationCommandOptionChoiceData<string>[] {
  return runs
    .filter((r) => r.id.startsWith(typed) || r.sop.toLowerCase().includes(typed))
    .sort((a, b) => b.queuedAt - a.queuedAt)
    .slice(0, MAX_CHOICES)
    .map((r) => ({ name: runLabel(r).slice(0, 100), value: r.id }));
}

function runLabel(r: RunState): string {
  const waiting = r.checkpoints.find((c) => c.status === "pending");
  return `${r.sop} run ${shortId(r.id)} — ${r.status.replace(/_/g, " ")}${waiting ? ` at ${waiting.id}` : ""} (started by ${r.requestedBy})`;
}
