/** Small formatting helpers shared by the pages: times, durations, statuses. */
import { describeTrigger } from "../../core/sop/describe-trigger.ts";
import { html, type SafeHtml } from "./html.ts";

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

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

export function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)} %`;
}

export function who(approvers: readonly string[]): string {
  return approvers.length ? approvers.join(", ") : "anyone who may use the bot";
}
