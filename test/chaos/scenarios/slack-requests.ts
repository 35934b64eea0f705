/**
 * Signed Slack requests posted again and again, to one serve (local) or to two serves on one
 * Redis at the same moment, and signed requests dated ten minutes ahead. A replay must start no
 * run and decide nothing, also once the run has moved on to a second gate that the same
 * `/approve` would now fit; a request from the future must be refused (401) and change nothing.
 */
import { join } from "node:path";
import { encode, FakeSlack, sendSigned, signature, slashCommand, type Person } from "../../helpers/fake-slack.ts";
import { deleteKeys, testPrefix } from "../../helpers/redis.ts";
import { until } from "../../helpers/until.ts";
import { verifyUntouched } from "../audit-checks.ts";
import { ChaosServe, ChaosWorker, KillLog } from "../fleet.ts";
import { scenarioWorkspace, type Scenario, type ScenarioContext, type Tally } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { describeLeftovers, killMarked, leftovers } from "../orphans.ts";
import { checkAuditFiles, countSettle, runUntil, StoreReader, waitSettled } from "../run-checks.ts";
import { checkJournal, journalSteps, readJournal } from "../step-journal.ts";
import { FAST_RECOVERY, newMarker } from "./kill-common.ts";

const SECRET = "chaos-signing-secret";
const CHANNEL = "C0CHAOS";
const SOP = "slack-gated";

interface Signed {
  body: string;
  contentType: string;
  timestamp: number;
  signature: string;
  responseUrl: string;
}

function signed(fake: FakeSlack, command: string, text: string, who: Person, aheadSecs = 0): Signed {
  const responseUrl = fake.responseUrl();
  const { contentType, body } = encode("command", slashCommand(command, text, who, responseUrl));
  const timestamp = Math.floor(Date.now() / 1000) + aheadSecs;
  return { body, contentType, timestamp, signature: signature(SECRET, body, timestamp), responseUrl };
}

export function slackScenario(driver: "local" | "redis"): Scenario {
  return {
    name: `slack-${driver}`,
    title: driver === "local"
      ? "local: replayed and future-dated signed Slack requests (/sop run, /approve) to sop serve"
      : "Redis: replayed signed Slack requests posted to two sop serve at once, and future-dated ones",
    needsRedis: driver === "redis",
    run: (ctx, tally) => runSlack(driver, ctx, tally),
  };
}

async function runSlack(driver: "local" | "redis", ctx: ScenarioContext, tally: Tally): Promise<void> {
  const { rng, cleanup } = ctx;
  const full = ctx.size === "full";
  const requests = full ? 12 : 4;
  const copies = full ? 8 : 4;
  tally.measures("lostOrStuck", "completedReRun", "orphans", "duplicateDecisions", "auditNotFinal", "chainFalseAlarms");
  const ws = await scenarioWorkspace(ctx, tally);
  const marker = newMarker();
  cleanup.push("kill leftover commands", () => killMarked(marker));
  await ws.addSop(SOP, `description = "chaos: two gates"\nversion = "1.0.0"\nexecution_mode = "automatic"\nmax_concurrent = 50`, journalSteps(marker, [
    { title: "First", sleep: "0.1", attrs: "requires_approval: true" },
    { title: "Second", sleep: "0.1", attrs: "requires_approval: true" },
  ]));
  const fake = await FakeSlack.start();
  cleanup.push("close the fake Slack", () => fake.close());
  const slackEnv = { SLACK_BOT_TOKEN: "xoxb-chaos", SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_CHANNEL: CHANNEL };
  const kills = new KillLog();
  const deps = { ws, kills, cleanup, note: (t: string): void => tally.note(t), log: ctx.log };
  let serves: ChaosServe[];
  let reader: StoreReader;
  let verifyEnv: Record<string, string>;
  if (driver === "redis") {
    const url = ctx.redisUrl!;
    const prefix = testPrefix();
    cleanup.push("delete the Redis keys", () => deleteKeys(url, prefix));
    const shared = { ...FAST_RECOVERY, ...slackEnv, REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir };
    serves = ["a", "b"].map((n) => new ChaosServe(`serve-${n}`, deps, { ...shared, SOP_WORKER: "0", LOGS_DIR: join(ws.root, `logs-${n}`), DATA_DIR: join(ws.root, `data-${n}`) }));
    const worker = new ChaosWorker("worker", deps, { ...shared, LOGS_DIR: join(ws.root, "worker-logs") });
    await Promise.all([...serves.map((s) => s.start()), worker.start()]);
    reader = await StoreReader.redis(url, prefix);
    cleanup.push("close the store reader", () => reader.close());
    verifyEnv = ws.env({ REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir });
  } else {
    serves = [new ChaosServe("serve", deps, { ...FAST_RECOVERY, ...slackEnv })];
    await serves[0]!.start();
    reader = StoreReader.local(ws.dataDir);
    verifyEnv = ws.env({ DATA_DIR: ws.dataDir, SOPS_DIR: ws.sopsDir });
  }
  for (const s of serves) {
    await until(`${s.name} to connect to Slack`, async () => ((await s.api<{ chat: { slack: { connection: string } } }>("GET", "/healthz")).json.chat.slack.connection === "connected"), 20_000);
  }
  const poller = new HealthPoller(() => serves);
  poller.start();
  cleanup.push("stop polling", () => poller.stop(tally));

  /** Posts each request `n` times at once, to random serves; returns the HTTP statuses. */
  const post = (reqs: readonly Signed[], n: number): Promise<number[]> => Promise.all(reqs.flatMap((r) => Array.from({ length: n }, async () => {
    const serve = rng.pick(serves);
    const res = await sendSigned(`${serve.url}/slack/events`, SECRET, r.contentType, r.body, { timestamp: r.timestamp, signature: r.signature });
    return res.status ?? 0;
  })));
  /**
   * A request is answered (acked) only after its signature was claimed in the ledger, so once
   * every post has its HTTP answer, each was let through or not; this waits for the ones let
   * through to answer on their response URL.
   */
  const answered = async (reqs: readonly Signed[], what: string): Promise<void> => {
    await until(what, () => reqs.every((r) => fake.responsesTo(r.responseUrl).length > 0), 20_000).catch(() => {
      tally.note(`${what}: ${reqs.filter((r) => fake.responsesTo(r.responseUrl).length === 0).length} of ${reqs.length} requests got no answer within 20 s`);
    });
  };
  const people: Person[] = Array.from({ length: requests * 2 + 2 }, (_, i) => ({ id: `UCHAOS${i}`, channel: CHANNEL }));
  const statusesOther = (statuses: number[], want: number) => statuses.filter((s) => s !== want);

  // 1. `/sop run` requests, each posted `copies` times at once.
  const runReqs = Array.from({ length: requests }, (_, i) => signed(fake, "/sop", `run ${SOP}`, people[i]!));
  const runStatuses = await post(runReqs, copies);
  if (statusesOther(runStatuses, 200).length > 0) tally.note(`/sop run answered ${statusesOther(runStatuses, 200).join(", ")} besides 200`);
  await answered(runReqs, "every /sop run to be answered");
  const waiting = await until("the runs to wait at their first gate", async () => {
    const runs = await reader.read((s) => s.list({ sop: SOP }));
    return runs.length >= requests && runs.every((r) => r.status === "awaiting_approval") ? runs : undefined;
  }, 20_000).catch(() => undefined);
  const runs = await reader.read((s) => s.list({ sop: SOP }));
  if (runs.length > requests) tally.add("duplicateDecisions", runs.length - requests, `${requests} signed /sop run requests, each posted ${copies} times, started ${runs.length} runs`);
  if (runs.length < requests) tally.add("lostOrStuck", requests - runs.length, `${requests} signed /sop run requests started only ${runs.length} runs`);
  if (!waiting) tally.note(`not every run waited at its first gate: ${runs.map((r) => r.status).join(", ")}`);
  ctx.log(`${requests} /sop run × ${copies}: ${runs.length} runs`);

  // 2. One `/approve NAME RUN_ID` per run, posted `copies` times at once; then, once the run waits
  //    at its second gate (which the same text would fit), posted `copies` times again.
  const approveReqs = runs.map((r, i) => ({ run: r, req: signed(fake, "/approve", `${SOP} ${r.id}`, people[requests + i]!) }));
  await post(approveReqs.map((a) => a.req), copies);
  await answered(approveReqs.map((a) => a.req), "every /approve to be answered");
  for (const { run } of approveReqs) {
    const atSecond = await runUntil(reader, run.id, (r) => r.status === "awaiting_approval" && r.checkpoints.some((c) => c.id === "step:2" && c.status === "pending"), 20_000);
    if (!atSecond) tally.add("lostOrStuck", 1, `run ${run.id} did not reach its second gate after its /approve`);
  }
  const lateStatuses = await post(approveReqs.map((a) => a.req), copies);
  if (statusesOther(lateStatuses, 200).length > 0) tally.note(`late /approve replays answered ${statusesOther(lateStatuses, 200).join(", ")} besides 200`);

  // 3. Requests dated ten minutes ahead: refused (401), nothing changes.
  const future = [
    ...Array.from({ length: Math.max(2, requests / 2) }, (_, i) => signed(fake, "/sop", `run ${SOP}`, people[i]!, 600)),
    ...runs.slice(0, Math.max(2, requests / 2)).map((r, i) => signed(fake, "/approve", `${SOP} ${r.id}`, people[i]!, 600)),
  ];
  const futureStatuses = await post(future, 2);
  const acceptedFuture = statusesOther(futureStatuses, 401);
  if (acceptedFuture.length > 0) tally.add("duplicateDecisions", acceptedFuture.length, `requests dated 10 minutes ahead were answered ${acceptedFuture.join(", ")} instead of 401`);

  // Finish the runs the real requests started through the API (their second gate, which no
  // replay may have decided), and cancel any run a replay or the future started.
  const mine = new Set(runs.map((r) => r.id));
  const approver = new Map(approveReqs.map((a, i) => [a.run.id, `slack:${people[requests + i]!.id}`]));
  const all = await reader.read((s) => s.list({ sop: SOP }));
  const extra = all.filter((r) => !mine.has(r.id));
  if (extra.length > 0) tally.add("duplicateDecisions", extra.length, `${extra.length} run(s) started by replayed or future-dated requests: ${extra.map((r) => r.id).join(", ")}`);
  for (const run of all) {
    const body = { sop: SOP, run_id: run.id };
    const res = mine.has(run.id) ? await serves[0]!.api("POST", "/api/sop/approve", { body }) : await serves[0]!.api("POST", "/api/sop/cancel", { body });
    if (res.status !== 200) tally.note(`finishing run ${run.id}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
  }
  const settle = await waitSettled(reader, { expected: all.map((r) => r.id), stallMs: 20_000, maxMs: 60_000, log: ctx.log });
  countSettle(settle, tally, reader.label);
  // Each gate decided by exactly who should have: the first by the one /approve, the second by the API.
  for (const run of settle.runs.filter((r) => mine.has(r.id))) {
    for (const [gate, want] of [["step:1", approver.get(run.id)], ["step:2", "api:alice"]] as const) {
      const cp = run.checkpoints.find((c) => c.id === gate);
      if (cp && (cp.status !== "approved" || cp.by.length !== 1 || cp.by[0] !== want)) {
        tally.add("duplicateDecisions", 1, `run ${run.id}: ${gate} ${cp.status} by ${cp.by.join(", ") || "nobody"}, expected approved by ${want} alone`);
      }
    }
  }
  const journal = checkJournal(await readJournal(ws.tmpDir), () => 0, kills);
  for (const line of journal.reRuns) tally.add("completedReRun", 1, line);
  const left = await leftovers(marker, 5000);
  if (left.length > 0) tally.add("orphans", left.length, describeLeftovers(left).join(" | "));
  const verify = { cwd: ws.root, env: verifyEnv, inProcess: ctx.size === "small" };
  for (const s of serves) {
    const dir = s.env["LOGS_DIR"] ?? ws.logsDir;
    const notFinal = await checkAuditFiles(reader, dir, full ? 15_000 : 6000, tally, `${s.name} LOGS_DIR`);
    await verifyUntouched(dir, verify, tally, `${s.name} LOGS_DIR`, notFinal);
  }
  await poller.stop(tally);
}
