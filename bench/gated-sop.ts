/** The SOP the approval benchmarks time: step 1 behind an approval, optionally a step 2 after it. */
import { performance } from "node:perf_hooks";
import type { SopRunner } from "../src/app/sop-runner.ts";
import type { RunEventType } from "../src/core/run/effects.ts";

export const GATED = "gated";

export function gatedSop(o: { maxConcurrent: number; secondStep: boolean }): { toml: string; md: string } {
  const toml = `[sop]
name = "${GATED}"
description = "Step 1 behind an approval${o.secondStep ? ", then step 2" : ""}"
execution_mode = "automatic"
cooldown_secs = 0
max_concurrent = ${o.maxConcurrent}
`;
  const step = (n: number, title: string, gate: string) => `${n}. **${title}**${gate}\n   \`\`\`sh\n   true\n   \`\`\`\n`;
  const md = `# Gated\n\n## Steps\n\n${step(1, "Go", " [requires_approval: true]")}${o.secondStep ? step(2, "Then", "") : ""}`;
  return { toml, md };
}

/** Resolves with the time of the first event of this type for this run. */
export function nextEvent(runner: SopRunner, runId: string, type: RunEventType): Promise<number> {
  return new Promise((resolve) => {
    const stop = runner.events.subscribe((e) => {
      if (e.runId === runId && e.type === type) {
        stop();
        resolve(performance.now());
      }
    });
  });
}
