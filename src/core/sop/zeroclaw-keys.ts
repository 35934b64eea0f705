/**
 * What the keys of ZeroClaw SOPs (the format the seed derives from) mean in sop-runner. Two carry
 * over: `requires_confirmation` is `requires_approval`, and `kind: checkpoint` makes a manual step.
 * Every other one is named in a diagnostic that says it has no effect here and, where there is
 * one, what to write instead: a ZeroClaw SOP may run differently, but never silently so.
 */
import { ENUM_ALIASES } from "./manifest-schema.ts";
import { quote } from "./show-toml-value.ts";
import { shorten } from "./step-attributes.ts";
import { EXECUTION_MODES } from "./types.ts";

/** The attribute a key means: ZeroClaw's `requires_confirmation` is our `requires_approval`. */
export function attributeKey(key: string): string {
  return key === "requires_confirmation" ? "requires_approval" : key;
}

/** What a `- kind: …` bullet makes of its step. */
export function stepKind(value: string): "checkpoint" | "execute" | "other" {
  return value === "checkpoint" || value === "execute" ? value : "other";
}

const RUNS_CODE = "a step runs the sh code blocks under it";
const ORDER = "steps run in list order: reorder them, and give a step [if: …] to skip it";
const OUTPUTS = "a step hands values on by writing name=value lines to $SOP_OUTPUT";
const TOOLS = `sop-runner has no agent tools: ${RUNS_CODE}`;

// A Map, so a bullet named `constructor` or `__proto__` finds nothing.
const BULLET_HINTS = new Map<string, string>([
  ["when", "give the step it guards [if: …] instead"],
  ["next", ORDER],
  ["depends_on", ORDER],
  ["on_failure",
    'a failed step fails the run; retry it with [retries: N], go on with [continue_on_error: true], or add a rollback step with [if: previous_step == "failed"] or [always: true]'],
  ["mode", "execution_mode in SOP.toml sets the mode of the whole SOP; for one step, use [requires_approval: true] or [manual: true]"],
  ["policy", "name the approvers in SOP.toml ([approval], or an approval gate pre_<step>) and mark the step [requires_approval: true]"],
  ["tools", TOOLS],
  ["allow-tools", TOOLS],
  ["deny-tools", TOOLS],
  ["capability", RUNS_CODE],
  ["with", RUNS_CODE],
  ["input", OUTPUTS],
  ["output", OUTPUTS],
]);

/**
 * The warning for a bullet that no attribute reads: it is kept as metadata and nothing more.
 * `where` follows the key, e.g. " (here and in steps 3 and 5)".
 */
export function bulletWithoutEffect(key: string, value: string, near: string | undefined, where = ""): string {
  const retries = key === "on_failure" ? /^retry\s*:\s*(\d+)$/.exec(value)?.[1] : undefined;
  const hint = retries !== undefined ? `use [retries: ${retries}] instead` : near ? `did you mean "${near}"?` : BULLET_HINTS.get(key);
  return `bullet "${shorten(key)}"${where} has no effect in sop-runner (it is kept as metadata)${hint ? `; ${hint}` : ""}`;
}

/** The warning for a `- kind:` other than checkpoint or execute (ZeroClaw's `capability` steps). */
export function kindWithoutEffect(value: string, where = ""): string {
  return `"kind: ${shorten(value)}"${where} has no effect in sop-runner (it is kept as metadata); ${RUNS_CODE}, and "kind: checkpoint" makes it a manual step`;
}

const TRIGGER_TYPES = "the trigger types are command, file_watch, schedule and manual";
// Reached only while the schema refuses the type: once webhook triggers (SPEC §8) are built, the
// schema accepts "webhook" and its entry here is never read.
const UNSUPPORTED_TRIGGERS = new Map<string, string>([
  ["mqtt", "sop-runner does not subscribe to MQTT topics"],
  ["peripheral", "sop-runner reads no hardware signals"],
  ["webhook", "sop-runner does not take webhooks yet"],
]);

/**
 * Why a ZeroClaw trigger type is refused and what to write instead, following the field's label
 * (`[[triggers]] #1 type …`); nothing for a type ZeroClaw does not have either.
 */
export function zeroclawTriggerType(type: string, trigger: unknown): string | undefined {
  if (type === "cron") {
    const expression = typeof trigger === "object" && trigger !== null ? (trigger as Record<string, unknown>)["expression"] : undefined;
    const cron = typeof expression === "string" ? quote(expression) : "…";
    return `"cron" is not a trigger type here; use type = "schedule" with cron = ${cron}`;
  }
  const reason = UNSUPPORTED_TRIGGERS.get(type);
  if (reason === undefined) return undefined;
  return `"${type}" is not supported: ${reason}; remove this trigger (${TRIGGER_TYPES})`;
}

/** The warning for ZeroClaw's `[sop].deterministic`, naming the mode that runs instead. */
export function deterministicWithoutEffect(sop: unknown): string {
  const written = typeof sop === "object" && sop !== null ? (sop as Record<string, unknown>)["execution_mode"] : undefined;
  const mode = typeof written === "string" ? (Object.hasOwn(ENUM_ALIASES, written) ? ENUM_ALIASES[written] : written) : undefined;
  const runs =
    written === undefined
      ? "this SOP runs in supervised mode, the default execution_mode"
      : mode !== undefined && (EXECUTION_MODES as readonly string[]).includes(mode)
        ? `this SOP runs in ${mode} mode, its execution_mode`
        : "this SOP runs in the mode its execution_mode names";
  return `[sop].deterministic has no effect in sop-runner; ${runs}`;
}
