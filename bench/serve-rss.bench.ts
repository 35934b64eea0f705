/**
 * Idle memory of `sop serve` (the compiled JavaScript in dist/, as `bin/sop.js` runs it) with the
 * example SOPs loaded: its resident set (VmRSS from /proc/<pid>/status) after /healthz answered
 * and the server sat idle for a while. The baseline, measured in the same run the same way, is a
 * bare `node` that only keeps a timer. A second figure is taken after a longer idle: by then V8
 * has given back the young generation that start-up (loading modules, parsing SOPs) grew.
 */
import { cp, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { DISCORD, FakeDiscord } from "../test/helpers/fake-discord.ts";
import { FakeSlack } from "../test/helpers/fake-slack.ts";
import { type Child, memoryKiB, spawnChild, type Serve, withServe } from "./serve-child.ts";
import { withWorkspace, type TempWorkspace } from "./temp-workspace.ts";

const EXAMPLES = new URL("../sops-example", import.meta.url).pathname;
const IDLE_MS = 2_000;
/** Long enough for V8's memory reducer to have run (it did after some 20 s idle). */
const SETTLED_MS = 30_000;
const SAMPLE_EVERY_MS = 200;
const TARGET_MIB = 110;
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
    const { serve, settled, readyMs, sops } = await withServe(ws, async (s) => {
      const idle = await idleMemory(s.child);
      await sleep(SETTLED_MS - IDLE_MS);
      if (!s.child.running) throw new Error(`sop serve exited while idle:\n${s.child.output()}`);
      return { serve: idle, settled: memoryKiB(s.child.pid), readyMs: s.readyMs, sops: s.health["sops"] };
    });
    const examples = (await readdir(EXAMPLES, { withFileTypes: true })).filter((e) => e.isDirectory()).length;
    if (sops !== examples) throw new Error(`sop serve loaded ${String(sops)} of the ${examples} example SOPs (/healthz)`);

    const keepAlive = "setInterval(() => {}, 1000); console.log('up');";
    const bare = await idleNode(ws, ["-e", keepAlive]);

    const chat = await chatOnMemory(ws);

    const value = mb(serve.rss);
    return [{
      name: "serve-rss",
      value,
      unit: `MiB RSS idle (${sops} example SOPs)`,
      baseline: `bare node ${fmt(mb(bare.rss))} MiB`,
      ratio: `${ratioText(serve.rss / bare.rss)} bare node (+${fmt(mb(serve.rss - bare.rss))} MiB)`,
      target: targetText(`≤ ${TARGET_MIB} MiB`, `${fmt(value)} MiB`, value <= TARGET_MIB),
      note: `VmRSS after /healthz answered (${fmt(readyMs / 1000)} s from spawn) and ${IDLE_MS / 1000} s idle; samples over the wait ` +
        `${fmt(mb(serve.min))}–${fmt(mb(serve.max))} MiB; anon ${fmt(mb(serve.anon))} + file ${fmt(mb(serve.file))} MiB; peak (VmHWM) ${fmt(mb(serve.hwm))} MiB`,
    }, {
      name: "serve-rss-settled",
      value: mb(settled.rss),
      unit: `MiB RSS after ${SETTLED_MS / 1000} s idle`,
      baseline: `bare node ${fmt(mb(bare.rss))} MiB`,
      ratio: `${ratioText(settled.rss / bare.rss)} bare node (+${fmt(mb(settled.rss - bare.rss))} MiB)`,
      note: `the same server as serve-rss, later: anon ${fmt(mb(settled.anon))} + file ${fmt(mb(settled.file))} MiB`,
    }, {
      name: "serve-rss-chat",
      value: mb(chat.rss),
      unit: "MiB RSS idle with Slack (HTTP mode) and Discord connected",
      baseline: `chat off ${fmt(value)} MiB`,
      ratio: `${ratioText(chat.rss / serve.rss)} chat off (+${fmt(mb(chat.rss - serve.rss))} MiB for Bolt, discord.js and their notifiers)`,
      note: `both platforms against the fakes of test/helpers on 127.0.0.1, measured once /healthz says both are connected; samples ${fmt(mb(chat.min))}–${fmt(mb(chat.max))} MiB`,
    }];
  });
}

/** The same, with both chat adapters loaded and connected (to local fakes). */
async function chatOnMemory(ws: TempWorkspace): Promise<Idle> {
  const slack = await FakeSlack.start();
  const discord = await FakeDiscord.start();
  try {
    const env = {
      SLACK_BOT_TOKEN: "xoxb-bench", SLACK_SIGNING_SECRET: "bench-secret", SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: DISCORD.token, DISCORD_APPLICATION_ID: DISCORD.app, DISCORD_GUILD_ID: DISCORD.guild, DISCORD_API_URL: discord.api,
    };
    return await withServe(ws, async (s) => {
      await untilConnected(s);
      return idleMemory(s.child);
    }, env);
  } finally {
    await slack.close();
    await discord.close();
  }
}

async function untilConnected(s: Serve): Promise<void> {
  for (let waited = 0; waited < 20_000; waited += 100) {
    const health = (await (await fetch(`${s.url}/healthz`)).json()) as { chat: Record<string, { connection?: string }> };
    if (health.chat["slack"]?.connection === "connected" && health.chat["discord"]?.connection === "connected") return;
    await sleep(100);
  }
  throw new Error(`Slack and Discord did not both connect within 20 s:\n${s.child.output()}`);
}
