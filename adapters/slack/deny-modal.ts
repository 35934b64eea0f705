/**
 * The form a Deny (or Failed) click opens. The reason is required: a denial ends the run, and the
 * audit record is read later by people who were not there, for whom "denied by U123" with no
 * why is not an answer. Slack keeps the form open until the field is filled, and a blank answer
 * is refused with a message under the field.
 *
 * The form carries what the submission needs, since it arrives with no channel or message: the
 * clicked button's id (run and checkpoint), the channel (the audit's source) and the click's
 * response_url, through which the answer reaches the person ephemerally.
 */
import type { types } from "@slack/bolt";
import { clip } from "./slack-text.ts";

export const DENY_CALLBACK = "sop_deny_reason";
export const REASON_BLOCK = "reason";
export const REASON_INPUT = "reason";
const REASON_MAX = 500;

export interface DenyContext {
  /** The clicked button's id: `sop|deny|<run>|<checkpoint>`. */
  button: string;
  channel?: string;
  responseUrl?: string;
}

export interface DenyForm {
  sop: string;
  runShort: string;
  /** The checkpoint asked about, when known. */
  checkpoint?: string;
  /** A manual step answered "Failed" rather than an approval denied. */
  manual: boolean;
}

const plain = (text: string) => ({ type: "plain_text" as const, text, emoji: true });

export function denyModal(form: DenyForm, context: DenyContext): types.ModalView {
  const what = form.manual ? "Mark the step failed" : "Deny the approval";
  const at = form.checkpoint ? ` at \`${form.checkpoint}\`` : "";
  return {
    type: "modal",
    callback_id: DENY_CALLBACK,
    private_metadata: JSON.stringify(context),
    title: plain(what),
    submit: plain(form.manual ? "Mark failed" : "Deny"),
    close: plain("Cancel"),
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: clip(`${form.sop} run ${form.runShort}${at}: the run ends${form.manual ? " as failed" : " denied"}. The reason goes into the audit record.`, 3000) },
      },
      {
        type: "input",
        block_id: REASON_BLOCK,
        label: plain("Reason"),
        element: {
          type: "plain_text_input",
          action_id: REASON_INPUT,
          multiline: true,
          max_length: REASON_MAX,
          placeholder: plain(form.manual ? "What went wrong?" : "Why not?"),
        },
      },
    ],
  };
}

/** The typed reason, trimmed; undefined when blank. */
export function reasonOf(view: { state: { values: Record<string, Record<string, { value?: string | null }>> } }): string | undefined {
  const value = view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim();
  return value ? value : undefined;
}

export function parseDenyContext(metadata: string): DenyContext | undefined {
  try {
    const parsed = JSON.parse(metadata) as Partial<DenyContext>;
    if (typeof parsed.button !== "string") return undefined;
    return {
      button: parsed.button,
      ...(typeof parsed.channel === "string" ? { channel: parsed.channel } : {}),
      ...(typeof parsed.responseUrl === "string" ? { responseUrl: parsed.responseUrl } : {}),
    };
  } catch {
    return undefined;
  }
}
