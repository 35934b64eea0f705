/**
 * The condition language: evaluations of pre-parsed conditions per second, and parses per second.
 * Baselines, measured in the same run: the same conditions written by hand as JavaScript (what
 * tree-walking costs over compiled code), and tokenizing alone (what building the tree adds).
 */
import { performance } from "node:perf_hooks";
import { evaluateCondition, isTruthy, parseCondition, tokenizeCondition, type ConditionNode, type Lookup } from "../src/core/conditions/index.ts";
import type { VarValue } from "../src/core/sop/types.ts";
import { fmt, ratioText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, median } from "./stats.ts";

type Native = (v: Lookup) => boolean;

const t = isTruthy;
const text = (value: VarValue | undefined): string => (value === undefined ? "" : String(value));

/** What SOP authors write (see sop-corpus.ts), each with a hand-compiled equivalent. */
const MIX: readonly { source: string; native: Native }[] = [
  { source: "tests_pass", native: (v) => t(v("tests_pass")) },
  { source: "!dry_run", native: (v) => !t(v("dry_run")) },
  { source: 'environment == "production"', native: (v) => text(v("environment")) === "production" },
  { source: 'tests_pass && environment == "production"', native: (v) => t(v("tests_pass")) && text(v("environment")) === "production" },
  { source: 'environment != "staging" || force_notify', native: (v) => text(v("environment")) !== "staging" || t(v("force_notify")) },
  {
    source: 'snapshot_ok && (region == "eu-west-1" || region == "us-east-1")',
    native: (v) => t(v("snapshot_ok")) && (text(v("region")) === "eu-west-1" || text(v("region")) === "us-east-1"),
  },
  {
    source: 'previous_step == "failed" || steps.build_release == "failed"',
    native: (v) => text(v("previous_step")) === "failed" || text(v("steps.build_release")) === "failed",
  },
  { source: "!(dry_run || maintenance) && replicas == 3", native: (v) => !(t(v("dry_run")) || t(v("maintenance"))) && Number(v("replicas")) === 3 },
  {
    source: 'version != "0.0.0-dev" && approvals == 2 && !skip_checks',
    native: (v) => text(v("version")) !== "0.0.0-dev" && Number(v("approvals")) === 2 && !t(v("skip_checks")),
  },
];

/** Variables as runs see them: defaults, trigger captures, step outputs (strings), built-ins. */
const VAR_SETS: readonly Record<string, VarValue>[] = [
  { tests_pass: "true", dry_run: false, environment: "production", region: "eu-west-1", snapshot_ok: "true", previous_step: "success", "steps.build_release": "success", replicas: "3", version: "1.4.2", approvals: 2 },
  { tests_pass: "false", dry_run: "yes", environment: "staging", region: "ap-southeast-2", force_notify: true, previous_step: "failed", replicas: 2, version: "0.0.0-dev" },
  { environment: "dev", maintenance: "on", region: "us-east-1", snapshot_ok: "1", "steps.build_release": "failed", replicas: "3.0", approvals: "2", skip_checks: "no" },
];

const LOOKUPS: readonly Lookup[] = VAR_SETS.map((vars) => {
  const map = new Map(Object.entries(vars));
  return (name) => map.get(name);
});

const MEASURE_MS = 400;
const ROUNDS = 3;

/**
 * Operations per second of `batch` (which does `opsPerBatch` operations): batches repeat for
 * about MEASURE_MS, median of ROUNDS such rounds after one unmeasured round. `batch` returns a
 * checksum that is accumulated, so the work cannot be optimised away.
 */
function opsPerSecond(opsPerBatch: number, batch: () => number): { rate: number; checksum: number } {
  let checksum = 0;
  const round = (): number => {
    let batches = 0;
    const start = performance.now();
    let elapsed: number;
    do {
      for (let i = 0; i < 64; i++) checksum += batch();
      batches += 64;
      elapsed = performance.now() - start;
    } while (elapsed < MEASURE_MS);
    return (batches * opsPerBatch * 1000) / elapsed;
  };
  round();
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    collectGarbage();
    rates.push(round());
  }
  return { rate: median(rates), checksum };
}

function parseOrThrow(source: string): ConditionNode {
  const parsed = parseCondition(source);
  if (!parsed.ok) throw new Error(`benchmark condition ${JSON.stringify(source)} does not parse: ${parsed.message}`);
  return parsed.ast;
}

export async function benchConditions(): Promise<BenchResult[]> {
  const asts = MIX.map((c) => parseOrThrow(c.source));
  const natives = MIX.map((c) => c.native);

  // The baseline must compute the same answers, or the ratio compares different work; and a
  // mix that is always true (or always false) would let && and || short-circuit unrealistically.
  let trues = 0;
  for (const [s, lookup] of LOOKUPS.entries()) {
    for (const [i, ast] of asts.entries()) {
      const result = evaluateCondition(ast, lookup);
      if (result !== natives[i]!(lookup)) {
        throw new Error(`hand-written baseline of ${JSON.stringify(MIX[i]!.source)} disagrees with evaluateCondition on variable set ${s}`);
      }
      if (result) trues++;
    }
  }
  const evalsPerBatch = asts.length * LOOKUPS.length;
  if (trues === 0 || trues === evalsPerBatch) throw new Error(`the condition mix is ${trues === 0 ? "never" : "always"} true`);

  const interpreted = opsPerSecond(evalsPerBatch, () => {
    let trues = 0;
    for (const lookup of LOOKUPS) for (const ast of asts) if (evaluateCondition(ast, lookup)) trues++;
    return trues;
  });
  const compiled = opsPerSecond(evalsPerBatch, () => {
    let trues = 0;
    for (const lookup of LOOKUPS) for (const native of natives) if (native(lookup)) trues++;
    return trues;
  });

  const sources = MIX.map((c) => c.source);
  const parses = opsPerSecond(sources.length, () => {
    let nodes = 0;
    for (const source of sources) if (parseCondition(source).ok) nodes++;
    return nodes;
  });
  const tokenizes = opsPerSecond(sources.length, () => {
    let tokens = 0;
    for (const source of sources) {
      const result = tokenizeCondition(source);
      if (result.ok) tokens += result.tokens.length;
    }
    return tokens;
  });

  return [
    {
      name: "condition-eval",
      value: interpreted.rate / 1e6,
      unit: "M evals/s",
      baseline: `hand-written JS ${fmt(compiled.rate / 1e6)} M/s`,
      ratio: `${ratioText(compiled.rate / interpreted.rate)} time per eval vs JS`,
      note: `${MIX.length} conditions × ${LOOKUPS.length} variable sets (${trues}/${evalsPerBatch} true), parsed once; ${fmt(1e9 / interpreted.rate)} ns/eval`,
    },
    {
      name: "condition-parse",
      value: parses.rate / 1e6,
      unit: "M parses/s",
      baseline: `tokenize only ${fmt(tokenizes.rate / 1e6)} M/s`,
      ratio: `${ratioText(tokenizes.rate / parses.rate)} time per parse vs tokenize`,
      note: `${fmt(1e9 / parses.rate)} ns/parse, mean length ${fmt(sources.reduce((n, s) => n + s.length, 0) / sources.length)} chars`,
    },
  ];
}
