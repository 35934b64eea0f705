/**
 * Slack `/approve` → ack and → next step started: the Slack adapter in-process (real Bolt, HTTP
 * mode on a fastify server, notifications on) against the fake Slack, for runs waiting at a
 * step-1 approval. (a) A signed `/approve NAME RUN_ID`, sent as Slack sends it, until its HTTP
 * answer: Slack gives up after 3 s, and the target is p99 < 100 ms. (b) The same send until the
 * run's `step_started` event. The baseline, measured in the same run on the same server with the
 * same client, is a POST of the same body to a plain fastify route answering 200: what any
 * request costs, so the ratio reads as "Slack's signature check and Bolt cost N plain requests".
 */
import { performance } from "node:perf_hooks";
import Fastify from "fastify";
import { SlackAdapter } from "../adapters/slack/index.ts";
import { silentLogger } from "../src/app/logger.ts";
import type { SopRunner } from "../src/app/sop-runner.ts";
import { encode, FakeSlack, sendSigned, slashCommand } from "../test/helpers/fake-slack.ts";
import { gatedSop, nextEvent, GATED } from "./gated-sop.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { collectGarbage, percentile } from "./stats.ts";
import { withRunner, withWorkspace } from "./temp-workspace.ts";

const RUNS = 200;
const WARM_UP_RUNS = 10;
const BASELINE_CALLS = 500;
const SOP = GATED;
const SECRET = "bench-signing-secret";
const CHANNEL = "C0BENCH";
const ACK_TARGET_P99_MS = 100;

const { toml: TOML, md: MD } = gatedSop({ maxConcurrent: RUNS + WARM_UP_RUNS, secondStep: true });

interface Sample {
  ack: number;
  started: number;
}

interface Setup {
  runner: SopRunner;
  fake: FakeSlack;
  adapter: SlackAdapter;
  url: string;
}

/** Approves one run by a signed /approve; waits for the run to end and its messages to settle, so samples never overlap. */
async function approveOne(s: Setup, runId: string): Promise<Sample> {
  const responseUrl = s.fake.responseUrl();
  const { contentType, body } = encode("command", slashCommand("/approve", `${SOP} ${runId}`, { id: "UBENCH", channel: CHANNEL }, responseUrl));
  const started = nextEvent(s.runner, runId, "step_started");
  const ended = nextEvent(s.runner, runId, "run_finished");
  const t0 = performance.now();
  const answer = await sendSigned(`${s.url}/slack/events`, SECRET, contentType, body);
  const acked = performance.now();
  if (answer.status !== 200) throw new Error(`/approve answered ${answer.status}`);
  const startedAt = await started;
  await ended;
  while (s.fake.responsesTo(responseUrl).length === 0) await new Promise((r) => setTimeout(r, 1));
  await s.adapter.idle();
  return { ack: acked - t0, started: startedAt - t0 };
}

async function baseline(url: string, count: number): Promise<number[]> {
  const { contentType, body } = encode("command", slashCommand("/approve", `${SOP} 00000000-0000-4000-8000-000000000000`, { id: "UBENCH", channel: CHANNEL }, "http://127.0.0.1:9/none"));
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/bench/plain`, { method: "POST", headers: { "content-type": contentType }, body });
    await res.text();
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`the plain route answered ${res.status}`);
  }
  return samples;
}

const p = (samples: readonly number[]) => ({ p50: percentile(samples, 50), p99: percentile(samples, 99) });

export async function benchSlackApprove(): Promise<BenchResult[]> {
  return withWorkspace("slack-approve", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    const fake = await FakeSlack.start();
    try {
      const { samples, plain } = await withRunner(ws, async (runner, { ledger }) => {
        const http = Fastify();
        // The baseline reads the same form body (as a string) and answers 200 with nothing.
        http.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => done(null, body));
        http.post("/bench/plain", async () => "");
        const adapter = new SlackAdapter({
          runner, ledger, http, log: silentLogger, context: { runUrl: (id) => `http://bot.bench/runs/${id}` },
          config: { botToken: "xoxb-bench", signingSecret: SECRET, apiUrl: fake.apiUrl, channel: CHANNEL },
        });
        try {
          await http.listen({ port: 0, host: "127.0.0.1" });
          const address = http.server.address();
          const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
          await adapter.start();
          while (adapter.health().connection !== "connected") await new Promise((r) => setTimeout(r, 5));
          const ids: string[] = [];
          for (let i = 0; i < WARM_UP_RUNS + RUNS; i++) {
            const r = await runner.execute(SOP, { actor: "slack:UALICE" });
            if (r.status !== "awaiting_approval") throw new Error(`run ${r.run_id} is ${r.status}, not awaiting_approval`);
            ids.push(r.run_id);
          }
          await adapter.idle();
          const setup = { runner, fake, adapter, url };
          await baseline(url, 50);
          for (const id of ids.slice(0, WARM_UP_RUNS)) await approveOne(setup, id);
          collectGarbage();
          const samples: Sample[] = [];
          for (const id of ids.slice(WARM_UP_RUNS)) samples.push(await approveOne(setup, id));
          collectGarbage();
          const plain = await baseline(url, BASELINE_CALLS);
          const unfinished = (await runner.runs({ sop: SOP })).filter((r) => r.status !== "success");
          if (unfinished.length > 0) throw new Error(`${unfinished.length} approved runs did not succeed, e.g. ${unfinished[0]!.status}`);
          return { samples, plain };
        } finally {
          await adapter.close();
          await http.close();
        }
      });

      const ack = p(samples.map((s) => s.ack));
      const started = p(samples.map((s) => s.started));
      const base = p(plain);
      const baselineText = `plain fastify POST p50 ${fmt(base.p50)} ms, p99 ${fmt(base.p99)} ms`;
      const ratio = (x: { p50: number; p99: number }) => `${ratioText(x.p50 / base.p50)} p50, ${ratioText(x.p99 / base.p99)} p99 vs plain POST`;
      return [
        {
          name: "slack-approve-ack",
          value: ack.p50,
          unit: `ms p50, ${fmt(ack.p99)} ms p99`,
          baseline: baselineText,
          ratio: ratio(ack),
          target: targetText(`p99 < ${ACK_TARGET_P99_MS} ms`, `${fmt(ack.p99)} ms`, ack.p99 < ACK_TARGET_P99_MS),
          note: `signed /approve → HTTP ack over ${RUNS} runs (after ${WARM_UP_RUNS} warm-up), adapter in-process with notifications on; max ${fmt(Math.max(...samples.map((s) => s.ack)))} ms`,
        },
        {
          name: "slack-approve-start",
          value: started.p50,
          unit: `ms p50, ${fmt(started.p99)} ms p99`,
          baseline: baselineText,
          ratio: ratio(started),
          note: `signed /approve sent → step_started event of the approved run; max ${fmt(Math.max(...samples.map((s) => s.started)))} ms`,
        },
      ];
    } finally {
      await fake.close();
    }
  });
}
