/**
 * Discord has no confirmation dialog on a button, so a button that must be confirmed (Approve on
 * a critical SOP) is rendered with a custom id that says "ask first": the click answers, privately,
 * "Are you sure?" with a Confirm button that carries the "confirmed" form of the same id. The
 * marker replaces the first separator (`sop|` → `sop?` / `sop!`), so the id stays within the 100
 * characters Discord allows whatever its length.
 */
import { parseButtonId, type ButtonTarget } from "../../src/chat/button-id.ts";

export type ClickMode = "act" | "ask" | "confirmed";

const MARK: Record<ClickMode, string> = { act: "sop|", ask: "sop?", confirmed: "sop!" };

/** The custom id of a Cancel button on an "Are you sure?" message. */
export const CANCEL_ID = "sop-cancel";

export function clickId(buttonId: string, mode: ClickMode): string {
  return buttonId.startsWith(MARK.act) ? MARK[mode] + buttonId.slice(MARK.act.length) : buttonId;
}

export function parseClickId(id: string): { target: ButtonTarget; mode: ClickMode; buttonId: string } | undefined {
  const mode = (Object.keys(MARK) as ClickMode[]).find((m) => id.startsWith(MARK[m]));
  if (!mode) return undefined;
  const buttonId = MARK.act + id.slice(MARK[mode].length);
  const target = parseButtonId(buttonId);
  return target ? { target, mode, buttonId } : undefined;
}
