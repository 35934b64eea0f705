/**
 * Loading and validating 1,000 realistic SOPs, against the time to only read their 2,000 files:
 * the ratio is what parsing and validation add on top of the unavoidable I/O.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSops } from "../src/app/load-sops.ts";
import { parseProcedure } from "../src/core/sop/parse-procedure.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { corpusSop, writeCorpus } from "./sop-corpus.ts";
import { collectGarbage, medianMs, timeMs } from "./stats.ts";
import { withWorkspace } from "./temp-workspace.ts";

const SOP_COUNT = 1000;
const RUNS = 3;
const TARGET_MS = 1000;

/** The floor: list the folders and read both files of each, concurrently, as loadSops does. */
async function readOnly(dir: string): Promise<number> {
  const folders = await readdir(dir);
  const texts = await Promise.all(folders.flatMap((f) => [readFile(join(dir, f, "SOP.toml"), "utf8"), readFile(join(dir, f, "SOP.md"), "utf8")]));
  return texts.length;
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
    const load = await medianMs(RUNS, async () => {
      if ((await loadSops(ws.sopsDir)).sops.length !== SOP_COUNT) throw new Error("loadSops lost SOPs between runs");
    }, { warmUp: false });

    // Where the time goes: the SOP.md parser alone over the same texts, one warm pass.
    const texts = Array.from({ length: SOP_COUNT }, (_, i) => corpusSop(i).md);
    collectGarbage();
    const procedureMs = await timeMs(async () => {
      for (const md of texts) parseProcedure(md, "SOP.md");
    });

    const perSopUs = (load.median * 1000) / SOP_COUNT;
    return [{
      name: "load-sops",
      value: load.median,
      unit: `ms / ${fmt(SOP_COUNT)} SOPs (${fmt(perSopUs)} µs/SOP)`,
      baseline: `read-only ${fmt(read.median)} ms`,
      ratio: `${ratioText(load.median / read.median)} load+validate / read-only`,
      target: targetText(`≤ ${fmt(TARGET_MS)} ms`, ratioText(load.median / TARGET_MS), load.median <= TARGET_MS),
      note: `median of ${RUNS} after a warm-up; samples ${load.samples.map(fmt).join(", ")} ms; ` +
        `SOP.md parsing alone ${fmt(procedureMs)} ms (${fmt((procedureMs * 1000) / SOP_COUNT)} µs/SOP, one pass)`,
    }];
  });
}
