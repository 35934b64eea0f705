/**
 * What the runner adds per step: a 20-step SOP of `true` commands run in-process, against 20
 * bare sequential spawns of /bin/true measured in the same run. Two more measurements split the
 * gap: the shell executor alone (how a command is launched) and the runner with an executor that
 * returns at once (state machine, run store and audit writes, with no process at all).
 */
import { spawn } from "node:child_process";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { ShellExecutor } from "../src/exec/shell-executor.ts";
import type { CommandResult, StepExecutor } from "../src/ports/step-executor.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { medianMs } from "./stats.ts";
import { withRunner, withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const STEPS = 20;
const RUNS = 5;
const TARGET_RATIO = 1.5;
const SOP = "twenty-trues";

const TOML = `[sop]
name = "${SOP}"
description = "${STEPS} steps that each run true"
execution_mode = "automatic"
`;

const MD = `# ${STEPS} trues\n\n## Steps\n\n${Array.from({ length: STEPS }, (_, i) => `${i + 1}. **Step ${i + 1}**\n   \`\`\`sh\n   true\n   \`\`\`\n`).join("\n")}`;

/** Succeeds at once: what is left of a run's time is the runner's own. */
class InstantExecutor implements StepExecutor {
  async run(): Promise<CommandResult> {
    return { exitCode: 0, signal: null, output: "", timedOut: false, cancelled: false, durationMs: 0 };
  }
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/true", [], { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`/bin/true exited with ${code}`))));
  });
}

async function runOnce(runner: SopRunner): Promise<void> {
  const record = await runner.execute(SOP, { wait: true });
  const ok = record.steps.filter((s) => s.status === "success").length;
  if (record.status !== "success" || ok !== STEPS) throw new Error(`run ended ${record.status} with ${ok}/${STEPS} steps succeeded`);
}

async function timeRunner(ws: TempWorkspace, executor?: StepExecutor): Promise<number> {
  await ws.addSop(SOP, TOML, MD);
  return withRunner(ws, async (runner) => (await medianMs(RUNS, () => runOnce(runner))).median, executor ? { executor } : {});
}

export async function benchStepOverhead(): Promise<BenchResult[]> {
  const bare = await medianMs(RUNS, async () => {
    for (let i = 0; i < STEPS; i++) await spawnTrue();
  });
  const runner = await withWorkspace("steps", (ws) => timeRunner(ws));
  const executorOnly = await withWorkspace("steps-exec", async (ws) => {
    const executor = new ShellExecutor();
    const spec = { command: "true", cwd: ws.root, env: ws.env(), redact: [] };
    return (await medianMs(RUNS, async () => {
      for (let i = 0; i < STEPS; i++) {
        const result = await executor.run(spec);
        if (result.exitCode !== 0) throw new Error(`ShellExecutor ran true with exit ${result.exitCode} ${result.spawnError ?? ""}`);
      }
    })).median;
  });
  const engineOnly = await withWorkspace("steps-engine", (ws) => timeRunner(ws, new InstantExecutor()));

  const ratio = runner / bare.median;
  const perStep = (ms: number) => fmt(ms / STEPS);
  return [{
    name: "step-overhead",
    value: runner,
    unit: `ms / ${STEPS} steps (${perStep(runner)} ms/step)`,
    baseline: `${STEPS} bare spawns ${fmt(bare.median)} ms`,
    ratio: `${ratioText(ratio)} runner / bare spawns`,
    target: targetText(`≤ ${TARGET_RATIO}×`, ratioText(ratio), ratio <= TARGET_RATIO),
    note: `per step: bare spawn ${perStep(bare.median)} ms, ShellExecutor alone ${perStep(executorOnly)} ms, ` +
      `runner with an instant executor ${perStep(engineOnly)} ms (medians of ${RUNS} after a warm-up)`,
  }];
}
