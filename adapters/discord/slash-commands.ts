/**
 * The slash commands of SPEC §5.4 as Discord application commands, and the ChatCommand each
 * invocation stands for. Discord types the options, so most commands are built from them
 * directly; `vars` is one string of `key=value` words, read by the same parser as on Slack.
 * The definitions are shared by the bot (registered at start) and `npm run discord:register`.
 */
import {
  ApplicationCommandOptionType as Option, ApplicationIntegrationType, InteractionContextType,
  type APIApplicationCommandBasicOption, type ChatInputCommandInteraction, type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { parseSop, type ChatCommand, type Parsed } from "../../src/chat/command-text.ts";

type CommandJson = RESTPostAPIChatInputApplicationCommandsJSONBody;

const sopName = (required: boolean, description = "The SOP"): APIApplicationCommandBasicOption =>
  ({ type: Option.String, name: "name", description, required, autocomplete: true, max_length: 100 });
const waitingRun: APIApplicationCommandBasicOption = {
  type: Option.String, name: "run", description: "The run, when several wait (its id)", autocomplete: true, max_length: 100,
};
const text = (name: string, description: string): APIApplicationCommandBasicOption =>
  ({ type: Option.String, name, description, max_length: 1000 });
const target: APIApplicationCommandBasicOption = {
  type: Option.String, name: "target", description: "An SOP name or a run id", required: true, autocomplete: true, max_length: 100,
};
const vars = text("vars", "Variables as key=value words, e.g. version=1.2.3 env=prod");

const sub = (name: string, description: string, options: APIApplicationCommandBasicOption[] = []) =>
  ({ type: Option.Subcommand as const, name, description, options });

/**
 * Guild commands appear at once; global ones are kept out of DMs, where a person has no roles,
 * and out of servers the bot is not in (a person may install an app on their own account).
 */
export function slashCommands(scope: "guild" | "global"): CommandJson[] {
  const commands: CommandJson[] = [
    { name: "approve", description: "Approve what a run of an SOP waits for", options: [sopName(true), waitingRun, text("comment", "A comment for the audit")] },
    { name: "deny", description: "Deny what a run of an SOP waits for (the run ends)", options: [sopName(true), waitingRun, text("reason", "Why, for the audit")] },
    {
      name: "sop", description: "Run and inspect SOPs", options: [
        sub("list", "The SOPs"),
        sub("run", "Start a run", [sopName(true), vars]),
        sub("plan", "Which steps would run, skip or wait", [sopName(true), vars]),
        sub("status", "Runs going, the last run, cooldown", [target]),
        sub("cancel", "Cancel a run", [target, text("reason", "Why, for the audit")]),
        sub("stats", "Success rate, durations, approval waits", [sopName(false, "One SOP (default: all)")]),
        sub("help", "The commands"),
      ],
    },
  ];
  return scope === "global" ? commands.map((c) => ({ ...c, contexts: [InteractionContextType.Guild], integration_types: [ApplicationIntegrationType.GuildInstall] })) : commands;
}

/** The ChatCommand a slash command invocation stands for, or why it cannot be read. */
export function commandOf(i: ChatInputCommandInteraction): Parsed {
  const str = (name: string) => i.options.getString(name)?.trim() || undefined;
  const ok = (command: ChatCommand): Parsed => ({ ok: true, command });
  switch (i.commandName) {
    case "approve":
    case "deny": {
      const runId = str("run");
      const note = str(i.commandName === "approve" ? "comment" : "reason");
      return ok({ kind: i.commandName, sop: str("name") ?? "", ...(runId ? { runId } : {}), ...(note ? { text: note } : {}) });
    }
    case "sop":
      return sopCommand(i.options.getSubcommand(false) ?? "help", str);
    default:
      return { ok: false, error: `unknown command /${i.commandName}` };
  }
}

function sopCommand(sub: string, str: (name: string) => string | undefined): Parsed {
  switch (sub) {
    case "run":
    case "plan": {
      const parsed = parseSop(`${sub} _ ${str("vars") ?? ""}`);
      if (!parsed.ok || (parsed.command.kind !== "run" && parsed.command.kind !== "plan")) return parsed;
      return { ok: true, command: { ...parsed.command, sop: str("name") ?? "" } };
    }
    case "status":
      return { ok: true, command: { kind: "status", target: str("target") ?? "" } };
    case "cancel": {
      const reason = str("reason");
      return { ok: true, command: { kind: "cancel", target: str("target") ?? "", ...(reason ? { reason } : {}) } };
    }
    case "stats": {
      const name = str("name");
      return { ok: true, command: { kind: "stats", ...(name ? { sop: name } : {}) } };
    }
    case "list":
      return { ok: true, command: { kind: "list" } };
    default:
      return { ok: true, command: { kind: "help" } };
  }
}
