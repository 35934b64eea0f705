/**
 * Child process of the parser scenario: loads each named SOP folder (read, size cap, UTF-8,
 * parse, checks) `repeat` times and prints one JSON line per folder with the median time (a
 * median, not the slowest: two cores shared with other work make single times noisy) and what
 * the parse made of its SOP.md (test/helpers/parse-refusals.ts: it parses, or the refusal; and
 * the codes of its diagnostics). Run
 * apart from the harness so that a parse that never ends can be killed. The first folder is loaded
 * once more before any is timed, so that no time includes compiling the parser.
 *
 *   node --import tsx test/chaos/parse-timer.ts <sopsDir> <repeat> <folder>…
 */
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadSopFolder } from "../../src/app/load-sops.ts";
import { outcomeOf } from "../helpers/parse-refusals.ts";

const [dir, repeatText, ...folders] = process.argv.slice(2);
if (!dir || !repeatText) throw new Error("usage: parse-timer.ts <sopsDir> <repeat> <folder>…");
const repeat = Number(repeatText);
// The first load of a process pays for compiling the parser; the times are of a warm one.
if (folders[0] !== undefined) await loadSopFolder(join(dir, folders[0]), folders[0]);
for (const folder of folders) {
  const times: number[] = [];
  let errors = 0;
  let steps: number | undefined;
  let outcome = "";
  let codes: string[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const loaded = await loadSopFolder(join(dir, folder), folder);
    times.push(performance.now() - t0);
    errors = loaded.diagnostics.filter((d) => d.severity === "error").length;
    steps = loaded.sop?.definition.steps.length;
    // Named as the user names the file, to compare with the outcomes written down for each shape.
    const ofMarkdown = loaded.diagnostics.filter((d) => basename(d.file) === "SOP.md").map((d) => ({ ...d, file: "SOP.md" }));
    outcome = outcomeOf(ofMarkdown);
    codes = [...new Set(ofMarkdown.map((d) => d.code))];
  }
  const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  process.stdout.write(`${JSON.stringify({ folder, ms: median, errors, steps: steps ?? null, outcome, codes })}\n`);
}
