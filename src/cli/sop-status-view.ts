/**
 * `sop status NAME` as printed, in-process and against a server alike: both clients hand over the
 * same view (the API's shape), so the text and the JSON are the same whichever answered.
 */
import type { CliContext } from "./cli-context.ts";
import type { SopStatusView } from "./sop-client.ts";

const secs = (v: number | null): string => (v === null ? "–" : `${(v / 1000).toFixed(1)} s`);

export function printSopStatus(ctx: CliContext, s: SopStatusView): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(s, null, 2));
    return;
  }
  const m = s.metrics;
  ctx.out(`${s.sop}: ${s.active.length} active, ${s.queued.length} queued, cooldown ${s.cooldown_remaining_secs} s left`);
  for (const r of s.active) ctx.out(`  ${r.id}  ${r.status}`);
  if (s.last) ctx.out(`  last: ${s.last.id} ${s.last.status}`);
  ctx.out(`  ${m.runs} runs, success rate ${m.success_rate === null ? "–" : `${Math.round(m.success_rate * 100)}%`}, duration p50 ${secs(m.duration_p50_ms)} p95 ${secs(m.duration_p95_ms)}, approval wait p50 ${secs(m.approval_wait_p50_ms)} p95 ${secs(m.approval_wait_p95_ms)}`);
}
