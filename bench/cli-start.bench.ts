/**
 * How long the `sop` command takes as a process, from spawn to exit: `sop --help`, and
 * `sop validate` of the example SOPs, against `node -e 0` measured in the same run. Rounds take
 * one sample of each in turn, so a burst of other work on the machine falls on all three alike;
 * the figures are medians.
 */
import { spawn } from "node:child_process";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { median } from "./stats.ts";
import { withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const SOP_BIN = new URL("../bin/sop.js", import.meta.url).pathname;
const EXAMPLES = new URL("../sops-example", import.meta.url).pathname;
const ROUNDS = 10;
const HELP_TARGET = 4;
const VALIDATE_TARGET = 8;

/** Milliseconds from spawn to exit of `node …args`; throws unless it exits 0. */
function timeProcess(args: readonly string[], ws: TempWorkspace): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    // cwd is the workspace, so no `.env` of the checkout is read; stdout is drained as a terminal would.
    const child = spawn(process.execPath, [...args], { cwd: ws.root, env: ws.env(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.resume();
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(" ")} exited ${code}:\n${stderr.slice(-2000)}`));
    });
  });
}

export async function benchCliStart(): Promise<BenchResult[]> {
  return withWorkspace("cli-start", async (ws) => {
    const commands = {
      node: ["-e", "0"],
      help: [SOP_BIN, "--help"],
      validate: [SOP_BIN, "validate", EXAMPLES],
    };
    const samples: Record<keyof typeof commands, number[]> = { node: [], help: [], validate: [] };
    // One unmeasured round: the files are in the page cache for the measured ones.
    for (const args of Object.values(commands)) await timeProcess(args, ws);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][]) samples[name].push(await timeProcess(args, ws));
    }
    const node = median(samples.node);
    const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} ms`;
    const row = (name: "help" | "validate", label: string, target: number): BenchResult => {
      const ms = median(samples[name]);
      const ratio = ms / node;
      return {
        name: `cli-start-${name}`,
        value: ms,
        unit: `ms ${label} (median of ${ROUNDS})`,
        baseline: `node -e 0 ${fmt(node)} ms`,
        ratio: `${ratioText(ratio)} node -e 0`,
        target: targetText(`≤ ${target}×`, ratioText(ratio), ratio <= target),
        note: `samples ${spread(samples[name])}; node -e 0 ${spread(samples.node)}`,
      };
    };
    return [row("help", "sop --help", HELP_TARGET), row("validate", "sop validate sops-example", VALIDATE_TARGET)];
  });
}
