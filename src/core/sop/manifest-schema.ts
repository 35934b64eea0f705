/**
 * SOP.toml as a zod schema: the single source of truth for validation (`parseManifest`) and for
 * the JSON Schema editors use (`schema/sop.schema.json`, written by `npm run schema`).
 * Keys stay snake_case as written; parse-manifest maps the output onto the camelCase types.
 * Messages given here follow the field's label, e.g. `[sop].name must be …`.
 *
 * zod is imported as a namespace (`* as z`) in every core module, never as `{ z }`: esbuild then
 * bundles only the zod functions the parser calls (scripts/build.ts), where `{ z }` holds all of
 * zod, its messages in fifty languages included (the parser's bundle 1.55 MB instead of 0.99).
 */
import * as z from "zod";
import { checkCron, checkGlob, checkRegExp, checkTimeZone } from "./manifest-checks.ts";
import { EXECUTION_MODES, PRIORITIES } from "./types.ts";
import { SOP_NAME } from "../names.ts";

/** Spellings accepted for an enum value and what they mean; messages list them apart. */
export const ENUM_ALIASES: Readonly<Record<string, string>> = { normal: "medium", auto: "automatic" };

export const IDENTITY_PREFIXES = ["slack", "slack-group", "discord", "discord-role", "api", "local"] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IDENTITY = new RegExp(`^(?:${IDENTITY_PREFIXES.join("|")}):\\S+$`);
// Slugs are what `slugify` makes: lower-case alphanumeric runs joined by single "_".
const GATE_NAME = /^(?:pre|post)_[a-z0-9]+(?:_[a-z0-9]+)*$/;
const RELATIVE_PATH = /^(?![/\\]|[A-Za-z]:)/;
const NOT_BLANK = /\S/;
// What a condition can name: letters, digits, _, -, . (a leading digit would read as a number).
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** An enum that also accepts aliases; the default sits on the input side so the JSON Schema shows it. */
function aliased<const T extends readonly [string, ...string[]]>(
  values: T,
  aliases: Readonly<Record<string, T[number]>>,
  fallback: T[number],
) {
  const accepted = [...values, ...Object.keys(aliases)] as [string, ...string[]];
  return z
    .enum(accepted)
    .default(fallback)
    .transform((value) => (aliases[value] ?? value) as T[number]);
}

const seconds = (min: number) => z.int().min(min);

const identity = z
  .string()
  .regex(IDENTITY, { error: `must be an identity starting with ${IDENTITY_PREFIXES.map((p) => `${p}:`).join(", ")}` })
  .meta({ description: "slack:U…, slack-group:S…, discord:<user id>, discord-role:<role id>, api:<token name> or local:<os user>" });

const approvers = z.array(identity).meta({
  title: "Approvers",
  description: "Who may approve; empty = anyone allowed to use the bot (admins always may).",
});
const minApprovals = seconds(1).meta({ title: "Minimum approvals", description: "Distinct people needed before the run resumes." });
const allowSelfApproval = z.boolean().meta({
  title: "Allow self-approval",
  description: "May the person who started the run approve it?",
});
const approvalTimeout = seconds(0).meta({ title: "Approval timeout (seconds)", description: "0 = wait forever." });
const onTimeout = z.enum(["deny", "approve"]).meta({
  title: "On timeout",
  description: 'What a timed-out approval decides; "approve" only when written explicitly.',
});

const sopTable = z
  .strictObject({
    name: z
      .string()
      .regex(SOP_NAME, { error: 'must be 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit' })
      .meta({ title: "Name", description: "Equals the SOP's folder name; used in /approve NAME and the API." }),
    description: z
      .string()
      .regex(NOT_BLANK, { error: "must not be empty" })
      .meta({ title: "Description", description: "One line saying what the SOP does." }),
    version: z.string().regex(NOT_BLANK, { error: "must not be empty" }).default("0.1.0").meta({ title: "Version" }),
    priority: aliased(PRIORITIES, { normal: "medium" }, "medium").meta({
      title: "Priority",
      description: 'Queue priority; "normal" means medium.',
    }),
    execution_mode: aliased(EXECUTION_MODES, { auto: "automatic" }, "supervised").meta({
        title: "Execution mode",
      description:
        'automatic: no run-level approval; supervised: a person approves at least once; step_by_step: an approval before every step; priority_based: step_by_step for high and critical, else supervised. "auto" means automatic.',
    }),
    cooldown_secs: seconds(0)
      .default(0)
      .meta({ title: "Cooldown (seconds)", description: "After a run is accepted, new runs are refused for this long. 0 = none." }),
    max_concurrent: seconds(1)
      .default(1)
      .meta({ title: "Max concurrent runs", description: "Runs of this SOP active at once, across every process." }),
    timeout_secs: seconds(1).optional().meta({ title: "Run timeout (seconds)", description: "For the whole run." }),
    workdir: z
      .string()
      .min(1)
      .regex(RELATIVE_PATH, { error: "must be a path relative to the SOP folder, not an absolute path" })
      .default(".")
      .meta({ title: "Working directory", description: "Where commands run, relative to the SOP folder." }),
  })
  .meta({ title: "[sop]", description: "What the SOP is and how it runs." });

const varValue = z.union([z.string(), z.number(), z.boolean()]);

const approvalTable = z
  .strictObject({
    approvers: approvers.default([]),
    min_approvals: minApprovals.default(1),
    allow_self_approval: allowSelfApproval.default(true),
    timeout_secs: approvalTimeout.default(0),
    on_timeout: onTimeout.default("deny"),
  })
  .meta({ title: "[approval]", description: "Defaults for every approval of this SOP." });

const channels = (platform: string) =>
  z
    .array(z.string().min(1))
    .default([])
    .meta({ description: `${platform} channel ids; empty = the bot's default channel.` });

const commandTrigger = z
  .strictObject({
    type: z.literal("command"),
    pattern: z
      .string()
      .min(1)
      .superRefine(checkRegExp)
      .meta({ description: "JavaScript regular expression a chat message (or `sop trigger TEXT`) must match." }),
    capture_groups: z
      .boolean()
      .default(false)
      .meta({ description: "Named groups become vars; unnamed ones become match_1, match_2 …" }),
  })
  .meta({ title: "Command trigger" });

const fileWatchTrigger = z
  .strictObject({
    type: z.literal("file_watch"),
    path: z
      .string()
      .min(1)
      .superRefine(checkGlob)
      .meta({ description: "Glob, relative to the SOPs folder's parent unless absolute." }),
    event: z.enum(["create", "change", "delete"]).default("create").meta({ description: "Vars: file_path, file_name, file_event." }),
  })
  .meta({ title: "File-watch trigger" });

const scheduleTrigger = z
  .strictObject({
    type: z.literal("schedule"),
    cron: z.string().superRefine(checkCron).meta({ description: "Cron expression, 5 fields (or 6 with seconds first)." }),
    timezone: z.string().superRefine(checkTimeZone).optional().meta({ description: 'IANA time zone, e.g. "Europe/Paris".' }),
  })
  .meta({ title: "Schedule trigger" });

const manualTrigger = z
  .strictObject({ type: z.literal("manual") })
  .meta({ title: "Manual trigger", description: "Always implied; listed for readability." });

const trigger = z.discriminatedUnion("type", [commandTrigger, fileWatchTrigger, scheduleTrigger, manualTrigger]);

const triggers = z
  .union([
    z.array(trigger),
    z.strictObject({}).meta({ description: "An empty [triggers] table: no triggers." }),
  ])
  .transform((value) => (Array.isArray(value) ? value : []))
  .meta({ title: "[[triggers]]", description: "What starts a run, one [[triggers]] table each." });

const approvalGate = z
  .strictObject({
    type: z.literal("approval"),
    required: z.boolean().default(true).meta({ description: "false: notify, but do not wait." }),
    approvers: approvers.optional(),
    min_approvals: minApprovals.optional(),
    allow_self_approval: allowSelfApproval.optional(),
    timeout_secs: approvalTimeout.optional(),
    on_timeout: onTimeout.optional(),
  })
  .meta({ title: "Approval gate", description: "Waits for approval; unset keys come from [approval]." });

const verificationGate = z
  .strictObject({
    type: z.literal("verification"),
    command: z
      .string()
      .regex(NOT_BLANK, { error: "must not be empty" })
      .meta({ description: "Shell command run like a step; a non-zero exit fails the gate and the run." }),
    timeout_secs: seconds(1).optional().meta({ title: "Timeout (seconds)" }),
  })
  .meta({ title: "Verification gate" });

const gates = z
  .record(
    z.string().regex(GATE_NAME, { error: "is not a valid gate name: use pre_<step slug>, post_<step slug>, pre_run or post_run" }),
    z.discriminatedUnion("type", [approvalGate, verificationGate]),
  )
  .meta({
    title: "[gates]",
    description: 'pre_<slug> runs before the step whose slug is <slug> ("Apply Patch" → apply_patch), post_<slug> after it; pre_run / post_run before the first and after the last step.',
  });

export const manifestSchema = z
  .strictObject({
    sop: sopTable,
    vars: z
      .record(
        z.string().regex(VAR_NAME, {
          error: "is not a usable variable name: use letters, digits, _, - and ., starting with a letter or _",
        }),
        varValue,
      )
      .prefault({})
      .meta({ title: "[vars]", description: "Default values of variables: strings, numbers or booleans." }),
    secrets: z
      .strictObject({
        names: z
          .array(z.string().regex(ENV_NAME, { error: "must be an environment variable name (letters, digits, _; not starting with a digit)" }))
          .default([]),
      })
      .prefault({})
      .meta({ title: "[secrets]", description: "Names of bot environment variables handed to commands and redacted everywhere." }),
    approval: approvalTable.prefault({}),
    notify: z
      .strictObject({ slack: channels("Slack"), discord: channels("Discord") })
      .prefault({})
      .meta({ title: "[notify]", description: "Where this SOP's notifications go." }),
    triggers: triggers.prefault([]),
    gates: gates.prefault({}),
  })
  .meta({ title: "SOP.toml", description: "Manifest of a sop-runner Standard Operating Procedure." });

export type ManifestInput = z.input<typeof manifestSchema>;
export type ManifestOutput = z.output<typeof manifestSchema>;

/** The JSON Schema of SOP.toml as authors write it (aliases included), for editors. */
export function manifestJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(manifestSchema, { io: "input", target: "draft-2020-12" });
  return { $schema, $comment: "Generated from src/core/sop/manifest-schema.ts by `npm run schema`; do not edit.", ...rest };
}
