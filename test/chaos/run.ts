/**
 * `npm run chaos [-- --only a,b] [--size small|full] [--seed N] [--list]`: runs the chaos
 * scenarios one after another and prints one table. Exit 1 unless every count is 0, every
 * scenario ran, and the worst parse of a pathological SOP.md under the cap took at most 1 s.
 * Random choices come from the seed (printed first and last): run again with `--seed N` to
 * make the same choices (the timing of the machine is not replayed, so a race may need a few runs).
 */
import { parseArgs } from "node:util";
import { ensureFreshBuild } from "../../scripts/build.ts";
import { redisUrlForTests } from "../helpers/redis.ts";
import { cleanUpEverything, runScenario, type ScenarioResult, type Size } from "./harness.ts";
import { randomSeed, Rng } from "./rng.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { formatTable, PARSE_LIMIT_MS, totals } from "./table.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    size: { type: "string", default: "full" },
    seed: { type: "string" },
    list: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});

if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.name.padEnd(18)} ${s.title}`);
  process.exit(0);
}
if (values.size !== "small" && values.size !== "full") {
  console.error(`--size must be small or full, got ${values.size}`);
  process.exit(2);
}
const size: Size = values.size;
const seed = values.seed !== undefined ? Number(values.seed) : randomSeed();
if (!Number.isSafeInteger(seed)) {
  console.error(`--seed must be an integer, got ${values.seed}`);
  process.exit(2);
}
const wanted = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; --list shows them`);
  process.exit(2);
}
const chosen = SCENARIOS.filter((s) => !wanted || wanted.includes(s.name));
// The scenarios spawn bin/sop.js, which runs dist/: never a stale one.
ensureFreshBuild();

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    void cleanUpEverything((l) => console.error(l)).finally(() => process.exit(130));
  });
}

const started = Date.now();
console.log(`chaos: seed ${seed}, size ${size}, scenarios ${chosen.map((s) => s.name).join(", ")}`);
const redisUrl = chosen.some((s) => s.needsRedis) ? await redisUrlForTests() : undefined;
const results: ScenarioResult[] = [];
for (const scenario of chosen) {
  const t0 = Date.now();
  const log = (line: string) => {
    if (!values.quiet) console.log(`  [${scenario.name} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  };
  console.log(`▶ ${scenario.name}: ${scenario.title}`);
  const result = await runScenario(scenario, { size, seed, rng: Rng.forScenario(seed, scenario.name), redisUrl, log });
  results.push(result);
  const counts = Object.entries(result.counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k}=${n}`).join(" ");
  console.log(`  ${result.skipped ? `skipped: ${result.skipped}` : result.error ? "ERROR" : counts || "all counts 0"} (${(result.durationMs / 1000).toFixed(1)} s)`);
}

console.log("");
console.log(formatTable(results));
const t = totals(results);
for (const r of results) {
  if (r.error) console.log(`\n${r.name}: the scenario broke: ${r.error}`);
  if (r.notes.length > 0) console.log(`\n${r.name} notes:\n${r.notes.map((n) => `  - ${n}`).join("\n")}`);
}
const parseOk = t.worstParseMs === undefined || t.worstParseMs <= PARSE_LIMIT_MS;
const ok = t.allZero && parseOk && t.errors === 0 && t.skipped === 0;
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\n${ok ? "PASS" : "FAIL"}: ${t.allZero ? "every count is 0" : "some counts are not 0"}${t.errors ? `, ${t.errors} scenario(s) broke` : ""}${t.skipped ? `, ${t.skipped} skipped` : ""}; worst parse ${t.worstParseMs === undefined ? "not measured" : `${Math.round(t.worstParseMs)} ms ${parseOk ? "≤" : ">"} ${PARSE_LIMIT_MS} ms`}; seed ${seed}, size ${size}, ${minutes} min`);
process.exit(ok ? 0 : 1);
