/**
 * Races on decisions and admission: 100 people approving (or denying) one gate at the same
 * moment, through every serve; 100 approvals racing the gate's timeout; 50 executes of an SOP
 * with a cooldown at the same moment. Exactly one decision per gate, exactly the approvals the
 * gate needs, exactly one run accepted. Local: one serve. Redis: two serves and a worker.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AuditRecord } from "../../../src/core/audit/audit-record.ts";
import { deleteKeys, testPrefix } from "../../helpers/redis.ts";
import { TOKENS } from "../../helpers/serve-process.ts";
import { verifyUntouched } from "../audit-checks.ts";
import { ChaosServe, ChaosWorker, KillLog } from "../fleet.ts";
import { scenarioWorkspace, type Scenario, type ScenarioContext, type Tally } from "../harness.ts";
import { HealthPoller } from "../health-poller.ts";
import { describeLeftovers, killMarked, leftovers } from "../orphans.ts";
import { checkAuditFiles, countSettle, runUntil, StoreReader, waitSettled } from "../run-checks.ts";
import { checkJournal, journalSteps, readJournal } from "../step-journal.ts";
import { FAST_RECOVERY, newMarker } from "./kill-common.ts";

const PEOPLE = 100;

export interface Gate {
  sop: string;
  min: number;
  /** How the 100 requests are made. */
  mix: "approve" | "both";
  timeoutSecs?: number;
}

const GATES: Gate[] = [
  { sop: "gate-one", min: 1, mix: "approve" },
  { sop: "gate-three", min: 3, mix: "approve" },
  { sop: "gate-mixed", min: 2, mix: "both" },
  { sop: "gate-timeout", min: 1, mix: "approve", timeoutSecs: 1 },
];

export interface Answers {
  approve200: number;
  deny200: number;
  other: string[];
}

export function decisionsScenario(driver: "local" | "redis"): Scenario {
  return {
    name: `decisions-${driver}`,
    title: driver === "local"
      ? "local: 100 simultaneous approvals/denials per gate (and racing a timeout), 50 simultaneous executes in a cooldown"
      : "Redis, two sop serve + a worker: 100 simultaneous approvals/denials per gate (and racing a timeout), 50 simultaneous executes in a cooldown",
    needsRedis: driver === "redis",
    run: (ctx, tally) => runDecisions(driver, ctx, tally),
  };
}

async function runDecisions(driver: "local" | "redis", ctx: ScenarioContext, tally: Tally): Promise<void> {
  const { rng, cleanup } = ctx;
  const rounds = ctx.size === "full" ? 3 : 1;
  tally.measures("lostOrStuck", "completedReRun", "orphans", "duplicateDecisions", "auditNotFinal", "chainFalseAlarms");
  const ws = await scenarioWorkspace(ctx, tally);
  const marker = newMarker();
  cleanup.push("kill leftover commands", () => killMarked(marker));
  for (const g of GATES) {
    const approval = `[approval]\nmin_approvals = ${g.min}${g.timeoutSecs ? `\ntimeout_secs = ${g.timeoutSecs}\non_timeout = "deny"` : ""}`;
    await ws.addSop(g.sop, `description = "chaos: ${g.min} approvals"\nexecution_mode = "automatic"\nmax_concurrent = 10\n${approval}`,
      journalSteps(marker, [{ title: "Gated", sleep: "0.1", attrs: "requires_approval: true" }]));
  }
  for (let r = 0; r < rounds; r++) {
    await ws.addSop(`cool-${r}`, `description = "chaos: cooldown"\nexecution_mode = "automatic"\ncooldown_secs = 600`, journalSteps(marker, [{ title: "Once", sleep: "0.1" }]));
  }
  const people = Array.from({ length: PEOPLE }, (_, i) => ({ name: `p${i}`, token: `tok-chaos-${i}-${randomBytes(6).toString("hex")}` }));
  const apiTokens = [`alice:${TOKENS.alice}`, ...people.map((p) => `${p.name}:${p.token}`)].join(",");

  const kills = new KillLog();
  const deps = { ws, kills, cleanup, note: (t: string): void => tally.note(t), log: ctx.log };
  let reader: StoreReader;
  let serves: ChaosServe[];
  let verifyEnv: Record<string, string>;
  if (driver === "redis") {
    const url = ctx.redisUrl!;
    const prefix = testPrefix();
    cleanup.push("delete the Redis keys", () => deleteKeys(url, prefix));
    const shared = { ...FAST_RECOVERY, REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir, API_TOKENS: apiTokens };
    serves = ["a", "b"].map((n) => new ChaosServe(`serve-${n}`, deps, { ...shared, LOGS_DIR: join(ws.root, `logs-${n}`), DATA_DIR: join(ws.root, `data-${n}`) }));
    const worker = new ChaosWorker("worker", deps, { ...shared, LOGS_DIR: join(ws.root, "worker-logs") });
    await Promise.all([...serves.map((s) => s.start()), worker.start()]);
    reader = await StoreReader.redis(url, prefix);
    cleanup.push("close the store reader", () => reader.close());
    verifyEnv = ws.env({ REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir });
  } else {
    serves = [new ChaosServe("serve", deps, { ...FAST_RECOVERY, API_TOKENS: apiTokens })];
    await serves[0]!.start();
    reader = StoreReader.local(ws.dataDir);
    verifyEnv = ws.env({ DATA_DIR: ws.dataDir, SOPS_DIR: ws.sopsDir });
  }
  const poller = new HealthPoller(() => serves);
  poller.start();
  cleanup.push("stop polling", () => poller.stop(tally));
  const serveFor = (i: number): ChaosServe => serves[i % serves.length]!;

  const accepted: string[] = [];
  const checks: { gate: Gate; runId: string; answers: Answers }[] = [];
  for (let round = 0; round < rounds; round++) {
    // One run per gate, each waiting for its people.
    const started = await Promise.all(GATES.map(async (gate, i) => {
      const res = await serveFor(i).api<{ run_id?: string }>("POST", "/api/sop/execute", { body: { sop: gate.sop } });
      if (res.status !== 202 || !res.json.run_id) throw new Error(`execute ${gate.sop} answered ${res.status}: ${JSON.stringify(res.json)}`);
      accepted.push(res.json.run_id);
      return { gate, runId: res.json.run_id };
    }));
    for (const { gate, runId } of started) {
      const waiting = await runUntil(reader, runId, (r) => r.status === "awaiting_approval", 20_000);
      if (!waiting) tally.add("lostOrStuck", 1, `run ${runId} of ${gate.sop} never waited for its approval`);
    }
    const fire = async (gate: Gate, runId: string): Promise<Answers> => {
      const answers: Answers = { approve200: 0, deny200: 0, other: [] };
      const verbs = gate.mix === "both" ? rng.shuffle([...Array<"approve" | "deny">(PEOPLE / 2).fill("deny"), ...Array<"approve" | "deny">(PEOPLE / 2).fill("approve")]) : Array<"approve">(PEOPLE).fill("approve");
      await Promise.all(people.map(async (p, i) => {
        const verb = verbs[i]!;
        const res = await serveFor(i).api("POST", `/api/sop/${verb}`, { token: p.token, body: { sop: gate.sop, run_id: runId } });
        if (res.status === 200) answers[verb === "approve" ? "approve200" : "deny200"]++;
        else if (res.status !== 409) answers.other.push(`${verb} by api:${p.name}: ${res.status} ${JSON.stringify(res.json).slice(0, 160)}`);
      }));
      return answers;
    };
    const untimed = started.filter((s) => s.gate.timeoutSecs === undefined);
    const timed = started.filter((s) => s.gate.timeoutSecs !== undefined);
    const [bursts, timedBursts] = await Promise.all([
      Promise.all(untimed.map(async (s) => ({ ...s, answers: await fire(s.gate, s.runId) }))),
      // Right at the deadline: the approvals race the timeout job.
      Promise.all(timed.map(async (s) => {
        const stored = await reader.read((st) => st.get(s.runId));
        const deadline = stored?.run.checkpoints.find((c) => c.status === "pending")?.deadline ?? Date.now();
        await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - rng.between(0, 60))));
        return { ...s, answers: await fire(s.gate, s.runId) };
      })),
    ]);
    checks.push(...bursts, ...timedBursts);

    // 50 executes of an SOP with a 10-minute cooldown, all at once, through every serve.
    const cool = `cool-${round}`;
    const executes = await Promise.all(Array.from({ length: 50 }, (_, i) => serveFor(i).api<{ run_id?: string }>("POST", "/api/sop/execute", { body: { sop: cool } })));
    const ok = executes.filter((e) => e.status === 202);
    for (const e of ok) if (e.json.run_id) accepted.push(e.json.run_id);
    const odd = executes.filter((e) => e.status !== 202 && e.status !== 429);
    if (ok.length > 1) tally.add("duplicateDecisions", ok.length - 1, `${cool}: ${ok.length} of 50 simultaneous executes accepted in a 600 s cooldown`);
    if (ok.length === 0) tally.add("lostOrStuck", 1, `${cool}: none of 50 simultaneous executes was accepted (no cooldown ran yet)`);
    if (odd.length > 0) tally.note(`${cool}: unexpected answers: ${odd.slice(0, 3).map((e) => `${e.status} ${JSON.stringify(e.json).slice(0, 120)}`).join("; ")}`);
    ctx.log(`round ${round + 1}: ${bursts.length + timedBursts.length} gates decided, ${ok.length} of 50 executes accepted`);
  }

  const settle = await waitSettled(reader, { expected: accepted, stallMs: 20_000, maxMs: 120_000, log: ctx.log });
  countSettle(settle, tally, reader.label);
  for (const c of checks) {
    const record = await reader.read((s) => s.finalRecord(c.runId));
    if (!record) continue; // counted as stuck
    const entry = record.approvals.find((a) => a.gate === "step:1");
    ctx.log(`${c.gate.sop}: ${entry?.decision ?? "?"} by ${entry?.by.length ?? 0} (${c.answers.approve200} approvals and ${c.answers.deny200} denials answered 200), run ${record.status}`);
    for (const problem of decisionProblems(c.gate, record, c.answers)) tally.add("duplicateDecisions", 1, `${c.gate.sop} run ${c.runId}: ${problem}`);
    // A deny ends the gate: `by` names the denier, and the approvals given before it are in `approved_by`.
    if (entry?.decision === "denied" && entry.approved_by.length < c.answers.approve200) {
      tally.note(`${c.gate.sop} run ${c.runId}: ${c.answers.approve200} approval(s) were answered 200 ("approval recorded") before the deny, but the record's approvals[].approved_by names ${entry.approved_by.length} (${entry.approved_by.join(", ")})`);
    }
    if (c.answers.other.length > 0) tally.note(`${c.gate.sop} run ${c.runId}: answers other than 200/409: ${c.answers.other.slice(0, 3).join("; ")}`);
  }

  const journal = checkJournal(await readJournal(ws.tmpDir), () => 0, kills);
  for (const line of journal.reRuns) tally.add("completedReRun", 1, line);
  const left = await leftovers(marker, 5000);
  if (left.length > 0) tally.add("orphans", left.length, describeLeftovers(left).join(" | "));
  const verify = { cwd: ws.root, env: verifyEnv, inProcess: ctx.size === "small" };
  for (const s of serves) {
    const dir = s.env["LOGS_DIR"] ?? ws.logsDir;
    const notFinal = await checkAuditFiles(reader, dir, ctx.size === "full" ? 15_000 : 6000, tally, `${s.name} LOGS_DIR`);
    await verifyUntouched(dir, verify, tally, `${s.name} LOGS_DIR`, notFinal);
  }
  await poller.stop(tally);
}

/** What is wrong with the decision of the gate, judged from the final record and the answers given. */
export function decisionProblems(gate: Gate, record: AuditRecord, answers: Answers): string[] {
  const problems: string[] = [];
  const entries = record.approvals.filter((a) => a.gate === "step:1");
  if (entries.length !== 1) return [`the gate step:1 appears ${entries.length} times in the record`];
  const a = entries[0]!;
  if (new Set(a.by).size !== a.by.length) problems.push(`by lists someone twice: ${a.by.join(", ")}`);
  const told = `${answers.approve200} approvals and ${answers.deny200} denials were answered 200`;
  if (a.decision === "approved") {
    if (a.by.length !== gate.min) problems.push(`approved with ${a.by.length} approvals recorded, min_approvals = ${gate.min}: ${a.by.join(", ")}`);
    if (answers.approve200 !== gate.min || answers.deny200 !== 0) problems.push(`approved by ${a.by.length}, but ${told}`);
    if (record.status !== "success") problems.push(`approved, but the run ended ${record.status}`);
  } else if (a.decision === "denied") {
    if (answers.deny200 !== 1 || answers.approve200 > gate.min - 1) problems.push(`denied, but ${told}`);
    if (record.status !== "denied") problems.push(`denied, but the run ended ${record.status}`);
  } else if (a.decision === "timed_out") {
    if (answers.approve200 !== 0 || answers.deny200 !== 0) problems.push(`timed out, but ${told}`);
    if (record.status !== "timed_out") problems.push(`timed out, but the run ended ${record.status}`);
  } else {
    problems.push(`ended with the gate ${a.decision} (${record.status}); ${told}`);
  }
  return problems;
}
