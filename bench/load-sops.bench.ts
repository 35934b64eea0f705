/**
 * Loading and validating 1,000 realistic SOPs, each figure against its target and against the
 * time to only read their 2,000 files (what parsing and validation add on top of the I/O):
 *
 * - cold: `loadSops` with nothing cached (worker threads help past 50 SOPs when cores are idle),
 *   and the same on this thread alone and with workers forced, to show what the threads give;
 * - warm: a new catalog over DATA_DIR's parse cache, as `sop serve` loads at start;
 * - full reload and hot reload of one changed SOP, on a running SopRunner (catalog and command
 *   matcher), as `sop serve` reloads;
 * - `sop validate` of the 1,000 as a whole process, against `sop validate` of one SOP.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { loadSops } from "../src/app/load-sops.ts";
import { poolThreads } from "../src/app/parse-pool.ts";
import { SopCache } from "../src/app/sop-cache.ts";
import { SopCatalog } from "../src/app/sop-catalog.ts";
import { fromMarkdown } from "mdast-util-from-markdown";
import { fastMarkdownTree } from "../src/core/sop/fast-markdown-tree.ts";
import { markdownBudget } from "../src/core/sop/markdown-budget.ts";
import { MARKDOWN_LIMITS } from "../src/core/sop/markdown-limits.ts";
import { parseManifest } from "../src/core/sop/parse-manifest.ts";
import { parseProcedure, parseProcedureFast } from "../src/core/sop/parse-procedure.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { corpusSop, writeCorpus } from "./sop-corpus.ts";
import { collectGarbage, median, medianMs, timeMs } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const SOP_COUNT = 1000;
const RUNS = 3;
const HOT_RUNS = 9;
const TARGET_COLD_MS = 1000;
const TARGET_WARM_MS = 300;
const TARGET_HOT_MS = 50;
const SOP_BIN = new URL("../bin/sop.js", import.meta.url).pathname;

/** The floor: list the folders and read both files of each, concurrently. */
async function readOnly(dir: string): Promise<number> {
  const folders = await readdir(dir);
  const texts = await Promise.all(folders.flatMap((f) => [readFile(join(dir, f, "SOP.toml"), "utf8"), readFile(join(dir, f, "SOP.md"), "utf8")]));
  return texts.length;
}

function samples(s: { samples: number[] }): string {
  return `samples ${s.samples.map(fmt).join(", ")} ms`;
}

function against(name: string, ms: number, unit: string, target: number, baseline: { label: string; ms: number }, note: string): BenchResult {
  return {
    name,
    value: ms,
    unit,
    baseline: `${baseline.label} ${fmt(baseline.ms)} ms`,
    ratio: `${ratioText(ms / baseline.ms)} ${baseline.label}`,
    target: targetText(`≤ ${fmt(target)} ms`, `${fmt(ms)} ms`, ms <= target),
    note,
  };
}

/** Wall time of `node bin/sop.js validate <dir>`, which must exit 0. */
async function validateProcess(dir: string): Promise<void> {
  const child = spawn(process.execPath, [SOP_BIN, "validate", dir], { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve, reject) => child.once("error", reject).once("exit", resolve));
  if (code !== 0) throw new Error(`sop validate ${dir} exited ${code}`);
}

async function coldFigures(ws: TempWorkspace, read: number): Promise<BenchResult[]> {
  const dir = ws.sopsDir;
  const pooled = await medianMs(RUNS, async () => {
    if ((await loadSops(dir)).sops.length !== SOP_COUNT) throw new Error("loadSops lost SOPs between runs");
  }, { warmUp: false });
  const threads = poolThreads(SOP_COUNT);
  const oneThread = await medianMs(RUNS, () => loadSops(dir, { poolThreshold: Infinity }), { warmUp: false });
  // What worker threads give on this machine now, whatever the load average says.
  const forced = Math.max(1, availableParallelism() - 1);
  const withWorkers = await medianMs(RUNS, () => loadSops(dir, { pool: { threads: forced } }), { warmUp: false });
  // Where the time goes, one warm pass over the same texts each: the SOP.md parser (its fast
  // tier first, as parseSop runs it), the same with micromark alone, micromark's metered mdast
  // tree by itself, and the SOP.toml parser. How many SOPs the fast tier took shows it is taken.
  const corpus = Array.from({ length: SOP_COUNT }, (_, i) => corpusSop(i));
  const treeOptions = { extensions: [markdownBudget(MARKDOWN_LIMITS)] };
  const pass = async (each: (sop: (typeof corpus)[number]) => unknown): Promise<number> => {
    collectGarbage();
    return timeMs(async () => {
      for (const sop of corpus) each(sop);
    });
  };
  const procedureMs = await pass((sop) => parseProcedure(sop.md, "SOP.md", { fastTree: fastMarkdownTree }));
  const micromarkMs = await pass((sop) => parseProcedure(sop.md, "SOP.md"));
  const fastTaken = corpus.filter((sop) => parseProcedureFast(sop.md, "SOP.md", fastMarkdownTree) !== undefined).length;
  const treeMs = await pass((sop) => fromMarkdown(sop.md, treeOptions));
  const manifestMs = await pass((sop) => parseManifest(sop.toml, "SOP.toml"));
  const perSop = (ms: number) => `${fmt((ms * 1000) / SOP_COUNT)} µs/SOP`;
  return [
    against("load-sops cold", pooled.median, `ms / ${fmt(SOP_COUNT)} SOPs, nothing cached`, TARGET_COLD_MS, { label: "read-only", ms: read },
      `median of ${RUNS}; ${samples(pooled)}; ${threads} worker thread(s) by the load average; on this thread alone ${fmt(oneThread.median)} ms, ` +
      `with ${forced} worker(s) forced ${fmt(withWorkers.median)} ms (${ratioText(withWorkers.median / oneThread.median)} this thread alone); ` +
      `SOP.md parsing alone ${fmt(procedureMs)} ms (${perSop(procedureMs)}, one pass; fast tier taken for ${fmt(fastTaken)} of ${fmt(SOP_COUNT)}), ` +
      `with micromark alone ${fmt(micromarkMs)} ms (${perSop(micromarkMs)}; ${ratioText(micromarkMs / procedureMs)} the two tiers), ` +
      `micromark's mdast tree by itself about ${fmt(treeMs)} ms (${perSop(treeMs)}); ` +
      `SOP.toml parsing alone ${fmt(manifestMs)} ms (${perSop(manifestMs)})`),
  ];
}

async function cachedFigures(ws: TempWorkspace, read: number): Promise<BenchResult[]> {
  // The first catalog parses all and fills the cache; each later one is a start with it warm.
  const first = await new SopCatalog(ws.sopsDir, new SopCache(ws.dataDir)).reload();
  if (first.lastLoad.parsed !== SOP_COUNT) throw new Error(`cold catalog parsed ${first.lastLoad.parsed} of ${SOP_COUNT}`);
  const warm = await medianMs(RUNS, async () => {
    const catalog = await new SopCatalog(ws.sopsDir, new SopCache(ws.dataDir)).reload();
    if (catalog.lastLoad.parsed !== 0 || catalog.list().length !== SOP_COUNT) throw new Error(`warm start parsed ${catalog.lastLoad.parsed}`);
  });
  return withRunner(ws, async (runner) => {
    const full = await medianMs(RUNS, () => runner.reload());
    const name = corpusSop(SOP_COUNT / 2).name;
    const md = join(ws.sopsDir, name, "SOP.md");
    const original = await readFile(md, "utf8");
    const hotSamples: number[] = [];
    for (let edit = 0; edit <= HOT_RUNS; edit++) {
      // A new text each time, as an editor's save: the reload must parse it. The first is a warm-up.
      // No forced GC here: the sweeping a full GC leaves behind would land on this short clock
      // (5 ms become 50 on a busy machine), and a real reload never follows a forced GC.
      await writeFile(md, `${original}\nEdit ${edit}.\n`);
      const ms = await timeMs(() => runner.reload([name]));
      if (runner.lastLoad.parsed !== 1) throw new Error(`hot reload parsed ${runner.lastLoad.parsed} SOPs`);
      if (edit > 0) hotSamples.push(ms);
    }
    const hot = { median: median(hotSamples), samples: hotSamples };
    await writeFile(md, original);
    return [
      against("load-sops warm", warm.median, `ms / ${fmt(SOP_COUNT)} SOPs, from DATA_DIR's cache (a start)`, TARGET_WARM_MS, { label: "read-only", ms: read },
        `median of ${RUNS}; ${samples(warm)}; new catalog over the cache each run, 0 parsed`),
      against("reload full", full.median, `ms / ${fmt(SOP_COUNT)} SOPs, nothing changed`, TARGET_WARM_MS, { label: "read-only", ms: read },
        `runner.reload() (catalog + command matcher); median of ${RUNS}; ${samples(full)}`),
      against("reload one", hot.median, `ms / 1 changed SOP of ${fmt(SOP_COUNT)}`, TARGET_HOT_MS, { label: "read-only", ms: read },
        `runner.reload([folder]) after an edit of its SOP.md, 1 parsed; median of ${HOT_RUNS}; ${samples(hot)}`),
    ];
  }, { sopCache: "write" });
}

async function processFigures(ws: TempWorkspace): Promise<BenchResult[]> {
  const one = join(ws.root, "one");
  await writeCorpus(one, 1);
  const floor = await medianMs(RUNS, () => validateProcess(one));
  const all = await medianMs(RUNS, () => validateProcess(ws.sopsDir), { warmUp: false });
  return [
    against("sop validate", all.median, `ms / ${fmt(SOP_COUNT)} SOPs, whole process`, TARGET_COLD_MS, { label: "1 SOP", ms: floor.median },
      `node bin/sop.js validate, cold (no cache); median of ${RUNS}; ${samples(all)}; the 1-SOP run is the start-up floor`),
  ];
}

export async function benchLoadSops(): Promise<BenchResult[]> {
  return withWorkspace("load", async (ws) => {
    await writeCorpus(ws.sopsDir, SOP_COUNT);
    // A corpus that does not load would time the error path, not the work. This load is also
    // loadSops' warm-up.
    const check = await loadSops(ws.sopsDir);
    const problems = check.diagnostics.filter((d) => d.severity === "error");
    if (check.sops.length !== SOP_COUNT || problems.length > 0) {
      throw new Error(`generated corpus does not load: ${check.sops.length}/${SOP_COUNT} SOPs, first error: ${problems[0]?.message ?? "none"}`);
    }
    const read = await medianMs(RUNS, async () => {
      if ((await readOnly(ws.sopsDir)) !== 2 * SOP_COUNT) throw new Error("read-only baseline read the wrong number of files");
    });
    return [
      ...(await coldFigures(ws, read.median)),
      ...(await cachedFigures(ws, read.median)),
      ...(await processFigures(ws)),
    ];
  });
}
