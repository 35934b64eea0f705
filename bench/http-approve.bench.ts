/**
 * Approve over HTTP → next step started, end to end through `sop serve` in its own process: for
 * runs waiting at a step-1 approval, (a) the round trip of `POST /api/sop/approve`, and (b) the
 * time from sending it until a `GET /api/runs/:id`, polled every 2 ms from the moment the approve
 * is sent, shows step 1 past `awaiting_approval`/`pending`. The baseline, measured in the same run
 * with the same client, is the round trip of `GET /healthz`: what any request to the server costs,
 * so the ratio reads as "an approval costs N trivial requests".
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { TERMINAL_STATUSES } from "../src/core/run/run-state.ts";
import { gatedSop, GATED } from "./gated-sop.ts";
import { fmt, ratioText, type BenchResult } from "./bench-result.ts";
import { api, type Serve, withServe } from "./serve-child.ts";
import { collectGarbage, percentile } from "./stats.ts";
import { withWorkspace } from "./temp-workspace.ts";

const RUNS = 200;
const WARM_UP_RUNS = 10;
const HEALTHZ_CALLS = 500;
const POLL_MS = 2;
const RUN_TIMEOUT_MS = 10_000;
const SOP = GATED;

const { toml: TOML, md: MD } = gatedSop({ maxConcurrent: 1000, secondStep: true });

interface StepView {
  status: string;
  started_at: string | null;
}

interface RunView {
  run_id: string;
  status: string;
  steps: StepView[];
  approvals: { decided_at: string | null }[];
}

const WAITING = new Set(["awaiting_approval", "pending"]);
const FINISHED = new Set<string>(TERMINAL_STATUSES);

const getRun = (serve: Serve, id: string): Promise<RunView> => api<RunView>(serve, "GET", `/api/runs/${id}`);

/** Polls the run until `done` holds for it (or throws after RUN_TIMEOUT_MS). */
async function pollUntil(serve: Serve, id: string, what: string, done: (r: RunView) => boolean): Promise<RunView> {
  const t0 = performance.now();
  for (;;) {
    const run = await getRun(serve, id);
    if (done(run)) return run;
    if (performance.now() - t0 > RUN_TIMEOUT_MS) throw new Error(`run ${id} not ${what} after ${RUN_TIMEOUT_MS / 1000} s: ${run.status}, steps ${run.steps.map((s) => s.status).join("/")}`);
    await sleep(POLL_MS);
  }
}

/** Runs waiting at their step-1 approval, created one after another, each seen waiting before the next. */
async function waitingRuns(serve: Serve, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { run_id: id } = await api<RunView>(serve, "POST", "/api/sop/execute", { sop: SOP }, [202]);
    await pollUntil(serve, id, "awaiting approval", (r) => r.status === "awaiting_approval" && r.steps[0]?.status === "awaiting_approval");
    ids.push(id);
  }
  return ids;
}

interface Sample {
  /** (a) approve request sent → its answer read. */
  roundTrip: number;
  /** (b) approve request sent → first poll answer showing step 1 started. */
  started: number;
  /** Did the approve answer itself already show step 1 started? */
  answeredStarted: boolean;
  /** Server clock: approval decided_at → step 1 started_at (ms resolution). */
  serverMs: number;
}

/** Approves one run, measures (a) and (b), then waits for the run to finish so runs never overlap. */
async function approveOne(serve: Serve, id: string): Promise<Sample> {
  const t0 = performance.now();
  const approved = api<{ run: RunView }>(serve, "POST", "/api/sop/approve", { sop: SOP, run_id: id }).then((answer) => ({ answer, at: performance.now() }));
  const seen = pollUntil(serve, id, "started", (r) => !WAITING.has(r.steps[0]?.status ?? "pending")).then((run) => ({ run, at: performance.now() }));
  const [a, b] = await Promise.all([approved, seen]);
  const done = await pollUntil(serve, id, "finished", (r) => FINISHED.has(r.status));
  if (done.status !== "success") throw new Error(`approved run ${id} ended ${done.status}`);
  const decided = Date.parse(done.approvals[0]?.decided_at ?? "");
  const stepStarted = Date.parse(done.steps[0]?.started_at ?? "");
  return {
    roundTrip: a.at - t0,
    started: b.at - t0,
    answeredStarted: !WAITING.has(a.answer.run.steps[0]?.status ?? "pending"),
    serverMs: stepStarted - decided,
  };
}

async function healthzRoundTrips(serve: Serve, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(`${serve.url}/healthz`);
    await res.text();
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
  }
  return samples;
}

const p = (samples: readonly number[]) => ({ p50: percentile(samples, 50), p99: percentile(samples, 99) });

export async function benchHttpApprove(): Promise<BenchResult[]> {
  return withWorkspace("http-approve", async (ws) => {
    await ws.addSop(SOP, TOML, MD);
    const { samples, healthz } = await withServe(ws, async (serve) => {
      const ids = await waitingRuns(serve, WARM_UP_RUNS + RUNS);
      await healthzRoundTrips(serve, 50);
      for (const id of ids.slice(0, WARM_UP_RUNS)) await approveOne(serve, id);
      collectGarbage();
      const samples: Sample[] = [];
      for (const id of ids.slice(WARM_UP_RUNS)) samples.push(await approveOne(serve, id));
      collectGarbage();
      return { samples, healthz: await healthzRoundTrips(serve, HEALTHZ_CALLS) };
    });

    const rtt = p(samples.map((s) => s.roundTrip));
    const started = p(samples.map((s) => s.started));
    const server = p(samples.map((s) => s.serverMs));
    const base = p(healthz);
    const baseline = `GET /healthz p50 ${fmt(base.p50)} ms, p99 ${fmt(base.p99)} ms`;
    const ratio = (x: { p50: number; p99: number }) => `${ratioText(x.p50 / base.p50)} p50, ${ratioText(x.p99 / base.p99)} p99 vs /healthz`;
    const answeredStarted = samples.filter((s) => s.answeredStarted).length;
    return [
      {
        name: "http-approve-rtt",
        value: rtt.p50,
        unit: `ms p50, ${fmt(rtt.p99)} ms p99`,
        baseline,
        ratio: ratio(rtt),
        note: `POST /api/sop/approve round trip over ${RUNS} runs (after ${WARM_UP_RUNS} warm-up), sop serve in its own process; ` +
          `${answeredStarted}/${RUNS} answers already showed step 1 started; max ${fmt(Math.max(...samples.map((s) => s.roundTrip)))} ms`,
      },
      {
        name: "http-approve-start",
        value: started.p50,
        unit: `ms p50, ${fmt(started.p99)} ms p99`,
        baseline,
        ratio: ratio(started),
        note: `approve sent → GET /api/runs/:id (polled every ${POLL_MS} ms) shows step 1 started; ` +
          `server clock decided_at → step 1 started_at p50 ${fmt(server.p50)} ms, p99 ${fmt(server.p99)} ms (1 ms resolution); ` +
          `max ${fmt(Math.max(...samples.map((s) => s.started)))} ms`,
      },
    ];
  });
}
