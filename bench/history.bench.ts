/**
 * History at scale (issue 13): with 100,000 ended runs in the store, for each driver,
 * - `sop serve` start: spawn to the first 200 from /healthz (target ≤ 3 s), and its resident set
 *   once started (the local driver keeps summaries of ended runs, not their files). The local
 *   driver's first start after seeding (no runs.index yet, as after an upgrade: it reads every
 *   run file once) is reported beside it;
 * - `GET /api/runs` p99 over first pages and pages further down by cursor, with and without
 *   SOP and status filters (target ≤ 50 ms);
 * - the web pages /runs (also with a status filter and an older page), /sops/:name, /runs/:id
 *   and / p99 (target ≤ 100 ms).
 * Requests go one at a time from this process to the server, after the server's start-up work
 * (the audit reconcile) is done. SOP_RETENTION_DAYS is left at 30: every seeded run is younger.
 */
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisRunStore } from "../src/drivers/redis/redis-run-store.ts";
import { fmt, targetText, type BenchResult } from "./bench-result.ts";
import { seedLocal, seedRedis, sopNames, writeSops } from "./history-seed.ts";
import { connect, REDIS_URL, redisAnswers, withPrefix } from "./redis-env.ts";
import { API_TOKEN, memoryKiB, startServe, type Serve } from "./serve-child.ts";
import { percentile } from "./stats.ts";
import { withWorkspace, type TempWorkspace } from "./temp-workspace.ts";
import { join } from "node:path";

const RUNS = Number(process.env["HISTORY_BENCH_RUNS"] ?? 100_000);
const SOPS = 20;
const API_SAMPLES = 300;
const PAGE_SAMPLES = 60;
const START_TARGET_MS = 3_000;
const API_TARGET_MS = 50;
const PAGE_TARGET_MS = 100;
const RECONCILE_WAIT_MS = 600_000;
/** The first local start reads every run file (no runs.index yet): minutes on a busy machine. */
const FIRST_START_WAIT_MS = 600_000;

interface Measured {
  driver: string;
  seedS: number;
  firstStartMs?: number;
  startMs: number;
  rssMiB: number;
  api: number[];
  pages: Map<string, number[]>;
}

async function timed(url: string, init: RequestInit, expect = 200): Promise<{ ms: number; body: string; res: Response }> {
  const t0 = performance.now();
  const res = await fetch(url, { redirect: "manual", ...init });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== expect) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 300)}`);
  return { ms, body, res };
}

/** The server's start-up work (audit reconcile over the seeded history) is over once it wrote its marks. */
async function untilReconciled(ws: TempWorkspace, serve: Serve): Promise<void> {
  const t0 = performance.now();
  while (!existsSync(join(ws.logsDir, ".audit-written.json"))) {
    if (!serve.child.running) throw new Error(`sop serve exited:\n${serve.child.output()}`);
    if (performance.now() - t0 > RECONCILE_WAIT_MS) throw new Error("the audit reconcile did not finish");
    await sleep(100);
  }
}

async function measureServe(ws: TempWorkspace, env: Record<string, string>, driver: string, seedS: number, firstStartMs?: number): Promise<Measured> {
  const serve = await startServe(ws, env);
  try {
    const startMs = serve.readyMs;
    await untilReconciled(ws, serve);
    await sleep(1_000);
    const rssMiB = memoryKiB(serve.child.pid).rss / 1024;
    const auth = { headers: { authorization: `Bearer ${API_TOKEN}` } };
    const sops = sopNames(SOPS);
    const queries = ["", "?status=failed", "?sop=history-03", "?sop=history-07&status=failed,denied", "?limit=100&status=success"];
    const api: number[] = [];
    const runIds: string[] = [];
    for (let i = 0; api.length < API_SAMPLES; i++) {
      // Each walk: a first page and four more by cursor.
      const base = queries[i % queries.length]!;
      let cursor: string | null = null;
      for (let depth = 0; depth < 5 && api.length < API_SAMPLES; depth++) {
        const query = cursor === null ? base : `${base}${base === "" ? "?" : "&"}cursor=${encodeURIComponent(cursor)}`;
        const { ms, body } = await timed(`${serve.url}/api/runs${query}`, auth);
        api.push(ms);
        const page = JSON.parse(body) as { runs: { run_id: string }[]; next_cursor: string | null };
        if (runIds.length < 500) runIds.push(...page.runs.slice(0, 5).map((r) => r.run_id));
        cursor = page.next_cursor;
        if (cursor === null) break;
      }
    }
    const login = await timed(`${serve.url}/?token=${API_TOKEN}`, {}, 303);
    const cookie = (login.res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const web = { headers: { cookie } };
    const older = /href="(\/runs\?[^"]*cursor=[^"]+)"/.exec((await timed(`${serve.url}/runs`, web)).body)?.[1]?.replace(/&amp;/g, "&");
    if (older === undefined) throw new Error("the /runs page has no Older link");
    const pagePaths: [string, (i: number) => string][] = [
      ["/runs", () => "/runs"],
      ["/runs?status=failed", () => "/runs?status=failed"],
      ["/runs (older page)", () => older],
      ["/sops/:name", (i) => `/sops/${sops[i % sops.length]}`],
      ["/runs/:id", (i) => `/runs/${runIds[(i * 7) % runIds.length]}`],
      ["/", () => "/"],
    ];
    const pages = new Map<string, number[]>();
    for (const [label, path] of pagePaths) {
      const samples: number[] = [];
      for (let i = 0; i < PAGE_SAMPLES; i++) samples.push((await timed(`${serve.url}${path(i)}`, web)).ms);
      pages.set(label, samples);
    }
    return { driver, seedS, ...(firstStartMs === undefined ? {} : { firstStartMs }), startMs, rssMiB, api, pages };
  } finally {
    await serve.child.stop();
  }
}

async function benchLocal(): Promise<Measured> {
  return withWorkspace("history-local", async (ws) => {
    const sops = sopNames(SOPS);
    await writeSops(ws.sopsDir, sops);
    const t0 = performance.now();
    await seedLocal({ dataDir: ws.dataDir, logsDir: ws.logsDir, sops, perSop: RUNS / SOPS, now: Date.now() });
    const seedS = (performance.now() - t0) / 1000;
    // The first start reads every run file once and writes runs.index.
    const first = await startServe(ws, {}, { readyMs: FIRST_START_WAIT_MS });
    await untilReconciled(ws, first);
    await first.child.stop();
    return measureServe(ws, {}, "local", seedS, first.readyMs);
  });
}

async function benchRedis(): Promise<Measured> {
  return withPrefix("history", (prefix) => withWorkspace("history-redis", async (ws) => {
    const sops = sopNames(SOPS);
    await writeSops(ws.sopsDir, sops);
    const redis = connect();
    const t0 = performance.now();
    try {
      await seedRedis({ store: new RedisRunStore(redis, { prefix }), logsDir: ws.logsDir, sops, perSop: RUNS / SOPS, now: Date.now() });
    } finally {
      redis.disconnect();
    }
    const seedS = (performance.now() - t0) / 1000;
    return measureServe(ws, { REDIS_URL, SOP_REDIS_PREFIX: prefix }, "redis", seedS);
  }));
}

function results(m: Measured): BenchResult[] {
  const p99 = (s: readonly number[]) => percentile(s, 99);
  const out: BenchResult[] = [
    {
      name: `history-${m.driver}-start`,
      value: m.startMs,
      unit: `ms to serve with ${fmt(RUNS)} ended runs`,
      target: targetText(`≤ ${START_TARGET_MS / 1000} s`, `${fmt(m.startMs / 1000)} s`, m.startMs <= START_TARGET_MS),
      note: `RSS ${fmt(m.rssMiB)} MiB after start-up work; seeded in ${fmt(m.seedS)} s` +
        (m.firstStartMs === undefined ? "" : `; first start without runs.index (reads every run file) ${fmt(m.firstStartMs)} ms`),
    },
    {
      name: `history-${m.driver}-api`,
      value: p99(m.api),
      unit: "ms p99 GET /api/runs",
      target: targetText(`≤ ${API_TARGET_MS} ms`, `${fmt(p99(m.api))} ms`, p99(m.api) <= API_TARGET_MS),
      note: `${m.api.length} pages of 100 (p50 ${fmt(percentile(m.api, 50))} ms): first pages and 4 more by cursor, unfiltered, by SOP, by status, both`,
    },
  ];
  const worst = Math.max(...[...m.pages.values()].map(p99));
  out.push({
    name: `history-${m.driver}-pages`,
    value: worst,
    unit: "ms p99, slowest web page",
    target: targetText(`≤ ${PAGE_TARGET_MS} ms every page`, `${fmt(worst)} ms`, worst <= PAGE_TARGET_MS),
    note: [...m.pages].map(([label, s]) => `${label} ${fmt(p99(s))}`).join(", ") + ` (p99 ms, ${PAGE_SAMPLES} each)`,
  });
  return out;
}

export async function benchHistory(): Promise<BenchResult[]> {
  const out = results(await benchLocal());
  if (await redisAnswers()) out.push(...results(await benchRedis()));
  return out;
}
