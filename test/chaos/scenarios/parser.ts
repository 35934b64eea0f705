/**
 * SOP.md files shaped to make Markdown parsers slow (test/chaos/pathological-markdown.ts), each
 * just under the 256 KiB cap: the worst time to load one (the median of three loads of each, in
 * a child process that is killed if a parse never ends), beside an ordinary SOP.md as big for
 * comparison, and whether each parses or is refused as written down in shape-outcomes.ts; and a
 * `sop serve` that keeps answering /healthz while hot reload parses them one after another.
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { ChaosServe, KillLog } from "../fleet.ts";
import { scenarioWorkspace, type Scenario, type ScenarioContext, type Tally } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { ordinaryMarkdown, pathologicalShapes, type PathologicalShape } from "../pathological-markdown.ts";
import { ORDINARY_AT_THE_CAP, OUTCOMES_AT_THE_CAP } from "../shape-outcomes.ts";
import { until } from "../../helpers/until.ts";

const TIMER = new URL("../parse-timer.ts", import.meta.url).pathname;
/** The checkout, where `--import tsx` resolves. */
const REPO = new URL("../../../", import.meta.url).pathname;
const CAP_BYTES = 256 * 1024;
/** A parse this long is stopped and reported as at least this long. */
const GIVE_UP_MS = 30_000;
const TOML = `description = "chaos: pathological Markdown"\nexecution_mode = "automatic"`;

interface Timing {
  folder: string;
  ms: number;
  errors: number;
  steps: number | null;
  /** What the parse made of SOP.md (test/helpers/parse-refusals.ts), and the codes of its diagnostics. */
  outcome: string;
  codes: string[];
}

/** Times each folder in a child; a folder the child does not finish within GIVE_UP_MS is killed and counted as that long. */
async function timeFolders(dir: string, folders: string[], repeat: number, cwd: string): Promise<Timing[]> {
  const timings: Timing[] = [];
  let left = [...folders];
  while (left.length > 0) {
    const child = spawn(process.execPath, ["--import", "tsx", TIMER, dir, String(repeat), ...left], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let buffered = "";
    let stderr = "";
    let lastLine = Date.now();
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        const t = JSON.parse(line) as Timing;
        timings.push(t);
        left = left.filter((f) => f !== t.folder);
        lastLine = Date.now();
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    // Start-up (tsx) counts against the first folder's budget too; it is a second, not thirty.
    const watchdog = setInterval(() => {
      if (Date.now() - lastLine > GIVE_UP_MS * repeat) child.kill("SIGKILL");
    }, 250);
    const code = await exited;
    clearInterval(watchdog);
    if (left.length > 0) {
      const stuck = left.shift()!;
      timings.push({ folder: stuck, ms: code === 0 ? Number.NaN : GIVE_UP_MS, errors: -1, steps: null, outcome: "not parsed: the timer was killed or ended", codes: [] });
      if (code !== null && code !== 0) throw new Error(`parse timer failed on ${stuck} (exit ${code}): ${stderr.slice(-800)}`);
    }
  }
  return timings;
}

export const parser: Scenario = {
  name: "parser",
  title: "pathological SOP.md shapes under the 256 KiB cap: worst load time, and /healthz of a serve hot-reloading them",
  needsRedis: false,
  run: runParser,
};

async function runParser(ctx: ScenarioContext, tally: Tally): Promise<void> {
  const { rng, cleanup } = ctx;
  const full = ctx.size === "full";
  const all = pathologicalShapes();
  const shapes: PathologicalShape[] = full ? all : rng.shuffle(all).slice(0, 8);
  const ws = await scenarioWorkspace(ctx, tally);
  tally.measures("wrongParseOutcomes");

  // 1. Load times, in a child process of their own.
  const folders: string[] = [];
  const about = new Map<string, PathologicalShape>();
  for (const [i, shape] of [{ name: "ordinary", about: "an ordinary SOP.md as big as the cap (baseline)", markdown: ordinaryMarkdown() }, ...shapes].entries()) {
    const bytes = Buffer.byteLength(shape.markdown);
    if (bytes >= CAP_BYTES) {
      tally.add("wrongParseOutcomes", 1, `shape ${shape.name} is ${bytes} bytes, not under the cap; left out`);
      continue;
    }
    const folder = `shape-${i}`;
    await ws.addSop(folder, TOML, shape.markdown);
    folders.push(folder);
    about.set(folder, shape);
  }
  const timings = await timeFolders(ws.sopsDir, folders, full ? 3 : 1, REPO);
  const sorted = [...timings].sort((a, b) => b.ms - a.ms);
  for (const t of timings) {
    if (Number.isNaN(t.ms)) throw new Error(`the parse timer ended without timing ${t.folder}`);
    const name = about.get(t.folder)?.name ?? t.folder;
    if (name === "ordinary") {
      const { steps, codes } = ORDINARY_AT_THE_CAP;
      const unexpected = t.codes.filter((code) => !(codes as readonly string[]).includes(code));
      if (t.steps !== steps || unexpected.length > 0) {
        tally.add("wrongParseOutcomes", 1, `the ordinary SOP.md: expected ${steps} steps and no diagnostic but ${codes.join(", ")}, got ${t.steps ?? "no"} steps and ${t.codes.join(", ") || "none"}`);
      }
      continue;
    }
    tally.parseTime(t.ms);
    const expected = OUTCOMES_AT_THE_CAP[name] ?? "an outcome written down in test/chaos/shape-outcomes.ts";
    if (t.outcome !== expected) tally.add("wrongParseOutcomes", 1, `${name}: expected ${expected}, got ${t.outcome}`);
  }
  const baseline = timings.find((t) => about.get(t.folder)?.name === "ordinary");
  const slowest = sorted.filter((t) => about.get(t.folder)?.name !== "ordinary").slice(0, 5);
  tally.note(`slowest loads: ${slowest.map((t) => `${about.get(t.folder)?.name} ${t.ms.toFixed(0)} ms (${t.errors === 0 ? `${t.steps} steps` : `${t.errors} errors`})`).join(", ")}; an ordinary SOP.md at the cap: ${baseline?.ms.toFixed(0)} ms; ${timings.length - 1} shapes`);
  ctx.log(`worst load ${slowest[0]?.ms.toFixed(0)} ms (${about.get(slowest[0]?.folder ?? "")?.name}) of ${timings.length - 1} shapes`);
  await rm(ws.sopsDir, { recursive: true, force: true });
  await ws.addSop("steady", TOML, "# Steady\n\n## Steps\n\n1. **Say** [if: a]\n");

  // 2. A serve hot-reloading them one after another, /healthz polled all along.
  const serve = new ChaosServe("serve", { ws, kills: new KillLog(), cleanup, note: (t) => tally.note(t), log: ctx.log }, {});
  await serve.start();
  const poller = new HealthPoller(() => [serve]);
  poller.start();
  cleanup.push("stop polling", () => poller.stop(tally));
  const fed = full ? shapes : shapes.slice(0, 3);
  let previous: string | undefined;
  let unseen = 0;
  for (const [k, shape] of fed.entries()) {
    const name = `patho-${k}`;
    if (Buffer.byteLength(shape.markdown) >= CAP_BYTES) continue;
    if (previous) await rm(`${ws.sopsDir}/${previous}`, { recursive: true, force: true });
    await ws.addSop(name, TOML, shape.markdown);
    previous = name;
    const mention = new RegExp(`${name}(?!\\d)`);
    // A reload names the new folder: "added patho-k" when it is valid, its diagnostics when not.
    const seen = await until(`the serve to reload ${shape.name}`, () => serve.logLines(mention).length > 0, 30_000).catch(() => false);
    if (!seen) unseen++;
  }
  if (unseen > 0) tally.note(`${unseen} of ${fed.length} shapes fed to the serve were never mentioned in its log within 30 s (reload not seen)`);
  ctx.log(`fed ${fed.length} shapes to the serve's hot reload`);
  await poller.stop(tally);
}
