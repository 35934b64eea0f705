/** Small formatting helpers shared by the pages: times, durations, statuses. */
import { describeTrigger } from "../../core/sop/describe-trigger.ts";
import { duration, percent } from "../../core/format.ts";
import { html, type SafeHtml } from "./html.ts";

export { duration, percent };

export function seconds(secs: number): string {
  if (secs <= 0) return "—";
  return duration(secs * 1000);
}

/** ISO time as a `<time>`, shown in UTC to the second: the audit's clock, unambiguous. */
export function time(iso: string | number | null | undefined): SafeHtml {
  if (iso === null || iso === undefined) return html``;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html``;
  const text = d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

/** A status word as a badge; its class colours it (see app.css). */
export function badge(status: string): SafeHtml {
  const cls = status.replace(/[^a-z_]/g, "");
  return html`<span class="badge s-${cls}">${status.replace(/_/g, " ")}</span>`;
}

/** A trigger in a few words (shared with the CLI). */
export const triggerText = describeTrigger;

export function who(approvers: readonly string[]): string {
  return approvers.length ? approvers.join(", ") : "anyone who may use the bot";
}
