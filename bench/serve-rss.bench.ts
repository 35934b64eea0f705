/**
 * Idle memory of `sop serve` with the example SOPs loaded: its resident set (VmRSS from
 * /proc/<pid>/status) after /healthz answered and the server sat idle for a while. The baseline,
 * measured in the same run the same way, is a bare `node` that only keeps a timer; the note adds
 * node with the tsx loader registered, since `bin/sop.js` runs the TypeScript sources through it.
 */
import { cp, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { type Child, memoryKiB, spawnChild, withServe } from "./serve-child.ts";
import { withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const EXAMPLES = new URL("../sops-example", import.meta.url).pathname;
const IDLE_MS = 2_000;
const SAMPLE_EVERY_MS = 200;
const TARGET_MB = 150;
const MiB = 1024;

interface Idle {
  /** VmRSS at the end of the idle wait, KiB. */
  rss: number;
  /** Range of the samples taken over the idle wait, KiB. */
  min: number;
  max: number;
  hwm: number;
  anon: number;
  file: number;
}

/** Waits IDLE_MS, sampling the process's memory; the last sample is the figure. */
async function idleMemory(child: Child): Promise<Idle> {
  const samples: number[] = [];
  let last = memoryKiB(child.pid);
  for (let waited = 0; waited < IDLE_MS; waited += SAMPLE_EVERY_MS) {
    await sleep(SAMPLE_EVERY_MS);
    if (!child.running) throw new Error(`process ${child.pid} exited while idle:\n${child.output()}`);
    last = memoryKiB(child.pid);
    samples.push(last.rss);
  }
  return { rss: last.rss, min: Math.min(...samples), max: Math.max(...samples), hwm: last.hwm, anon: last.anon, file: last.file };
}

/** A node process running `code`, idle; its memory once it has started. */
async function idleNode(ws: TempWorkspace, args: readonly string[]): Promise<Idle> {
  const child = spawnChild([...args], { cwd: ws.root, env: ws.env() });
  try {
    // It prints once it is up (after its imports), so the wait starts from the same point as serve's.
    const up = new Promise<void>((resolve, reject) => {
      child.proc.stdout!.once("data", () => resolve());
      child.proc.once("exit", (code) => reject(new Error(`baseline node exited (${code}) before it was up:\n${child.output()}`)));
    });
    await up;
    return await idleMemory(child);
  } finally {
    await child.stop();
  }
}

const mb = (kib: number) => kib / MiB;

export async function benchServeRss(): Promise<BenchResult[]> {
  return withWorkspace("serve-rss", async (ws) => {
    await cp(EXAMPLES, ws.sopsDir, { recursive: true });
    const { serve, readyMs, sops } = await withServe(ws, async (s) => ({ serve: await idleMemory(s.child), readyMs: s.readyMs, sops: s.health["sops"] }));
    const examples = (await readdir(EXAMPLES, { withFileTypes: true })).filter((e) => e.isDirectory()).length;
    if (sops !== examples) throw new Error(`sop serve loaded ${String(sops)} of the ${examples} example SOPs (/healthz)`);

    const keepAlive = "setInterval(() => {}, 1000); console.log('up');";
    const bare = await idleNode(ws, ["-e", keepAlive]);
    const tsxApi = import.meta.resolve("tsx/esm/api");
    const tsx = await idleNode(ws, ["--input-type=module", "-e", `const { register } = await import(${JSON.stringify(tsxApi)}); register(); ${keepAlive}`]);

    const value = mb(serve.rss);
    return [{
      name: "serve-rss",
      value,
      unit: `MiB RSS idle (${sops} example SOPs)`,
      baseline: `bare node ${fmt(mb(bare.rss))} MiB`,
      ratio: `${ratioText(serve.rss / bare.rss)} bare node (+${fmt(mb(serve.rss - bare.rss))} MiB)`,
      target: targetText(`< ${TARGET_MB} MB`, `${fmt(value)} MiB = ${fmt((serve.rss * 1024) / 1e6)} MB`, (serve.rss * 1024) / 1e6 < TARGET_MB),
      note: `VmRSS after /healthz answered (${fmt(readyMs / 1000)} s from spawn) and ${IDLE_MS / 1000} s idle; samples over the wait ` +
        `${fmt(mb(serve.min))}–${fmt(mb(serve.max))} MiB; anon ${fmt(mb(serve.anon))} + file ${fmt(mb(serve.file))} MiB; peak (VmHWM) ${fmt(mb(serve.hwm))} MiB; ` +
        `node + tsx loader alone ${fmt(mb(tsx.rss))} MiB`,
    }];
  });
}
