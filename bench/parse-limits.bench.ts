/**
 * The slowest SOP.md under the 256 KiB cap: every pathological shape (test/chaos/pathological-
 * markdown.ts), at the product's limits, parsed once, the slowest few again, against an ordinary
 * SOP.md of the same size parsed in the same run. The ratio is what the worst input costs over a
 * normal one; the goal (issue: a 40 KB line of `*` froze `sop serve` for 29 s) is ≤ 1 s whatever
 * the content. Then the same goal for SOP.toml's gates over SOP.md's steps: thousands of gates
 * naming no step of a thousand, each told which slugs there are, against the SOP without gates.
 */
import { performance } from "node:perf_hooks";
import { fastMarkdownTree } from "../src/core/sop/fast-markdown-tree.ts";
import { parseProcedure } from "../src/core/sop/parse-procedure.ts";
import { parseSop, type SopSource } from "../src/core/sop/parse-sop.ts";
import { ordinaryMarkdown, pathologicalShapes } from "../test/chaos/pathological-markdown.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, median } from "./stats.ts";

const RUNS = 5;
/** The slowest shapes of the first pass, timed RUNS times: one hiccup must not make the worst case. */
const RETIMED = 5;
const TARGET_MS = 1000;

interface Timed {
  name: string;
  markdown: string;
  ms: number;
  refused: boolean;
}

function parseMs(markdown: string): { ms: number; refused: boolean } {
  collectGarbage();
  const start = performance.now();
  // With the fast tier, as a load of many SOPs parses: its tries (and declines) are part of the cost.
  const { steps } = parseProcedure(markdown, "SOP.md", { fastTree: fastMarkdownTree });
  const ms = performance.now() - start;
  // Every shape has a step; a text past a limit is refused whole, with one located error.
  return { ms, refused: steps.length === 0 };
}

const STEPS = 1_000;
const GATES = 3_000;

/** An SOP of STEPS steps, with `gates` gates that each name no step (so each message names slugs). */
function manyGates(gates: number): SopSource {
  const steps = Array.from({ length: STEPS }, (_, i) => `${i + 1}. **Step ${i + 1}**\n`).join("");
  const lines = Array.from({ length: gates }, (_, i) => `post_gate_${i} = { type = "approval" }`).join("\n");
  const toml = `[sop]\nname = "big"\ndescription = "d"\nversion = "1"\n\n[gates]\n${lines}\n`;
  return { folder: "big", tomlFile: "SOP.toml", toml, mdFile: "SOP.md", markdown: `## Steps\n\n${steps}` };
}

function parseSopMs(source: SopSource): number {
  collectGarbage();
  const start = performance.now();
  parseSop(source, { fastTree: fastMarkdownTree });
  return performance.now() - start;
}

function benchGates(): BenchResult {
  const gated = manyGates(GATES);
  const bare = manyGates(0);
  parseSopMs(gated);
  const samples: number[] = [];
  const baseline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    baseline.push(parseSopMs(bare));
    samples.push(parseSopMs(gated));
  }
  const ms = median(samples);
  const base = median(baseline);
  return {
    name: "parse-gates",
    value: ms,
    unit: `ms, parseSop of ${fmt(GATES)} gates that name none of ${fmt(STEPS)} steps`,
    baseline: `the same SOP without gates ${fmt(base)} ms`,
    ratio: `${ratioText(ms / base)} gated / bare`,
    target: targetText(`≤ ${fmt(TARGET_MS)} ms`, `${fmt(ms)} ms`, ms <= TARGET_MS),
    note: `median of ${RUNS}`,
  };
}

export async function benchParseLimits(): Promise<BenchResult[]> {
  const ordinary = ordinaryMarkdown();
  parseMs(ordinary);
  const first: Timed[] = pathologicalShapes().map((shape) => ({ name: shape.name, markdown: shape.markdown, ...parseMs(shape.markdown) }));
  // The slowest again, each run next to an ordinary parse, so both see the same machine.
  const baseline: number[] = [];
  const retimed = [...first].sort((a, b) => b.ms - a.ms).slice(0, RETIMED).map((shape) => {
    const samples = [shape.ms];
    for (let run = 1; run < RUNS; run++) {
      baseline.push(parseMs(ordinary).ms);
      samples.push(parseMs(shape.markdown).ms);
    }
    return { ...shape, ms: median(samples) };
  });
  retimed.sort((a, b) => b.ms - a.ms);
  const worst = retimed[0]!;
  const base = median(baseline);
  const refused = first.filter((shape) => shape.refused).length;
  const limits: BenchResult = {
    name: "parse-limits",
    value: worst.ms,
    unit: `ms, slowest of ${first.length} pathological SOP.md shapes (${worst.name})`,
    baseline: `ordinary SOP.md of the same size ${fmt(base)} ms`,
    ratio: `${ratioText(worst.ms / base)} worst / ordinary`,
    target: targetText(`≤ ${fmt(TARGET_MS)} ms`, `${fmt(worst.ms)} ms`, worst.ms <= TARGET_MS),
    note: `median of ${RUNS} for the ${RETIMED} slowest: ${retimed.map((s) => `${s.name} ${fmt(s.ms)} ms`).join(", ")}; ` +
      `${refused} shapes refused with a located error, ${first.length - refused} parsed`,
  };
  return [limits, benchGates()];
}
