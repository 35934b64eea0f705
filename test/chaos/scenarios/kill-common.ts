/**
 * What the kill -9 scenarios share: two SOPs whose long middle step runs with and without
 * `retries`, a loop that submits runs over the API while processes die, a loop that kills at
 * random moments (each while some step is running), and the checks after everything settled.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Workspace } from "../../helpers/workspace.ts";
import { tamperChecks, verifyUntouched, type VerifyTarget } from "../audit-checks.ts";
import { KillLog, type ChaosServe, type FleetDeps } from "../fleet.ts";
import { scenarioWorkspace, type ScenarioContext, type Size, type Tally } from "../harness.ts";
import { killMarked, leftovers, describeLeftovers } from "../orphans.ts";
import { checkAuditFiles, countSettle, waitSettled, type StoreReader } from "../run-checks.ts";
import { checkJournal, journalSteps, readJournal } from "../step-journal.ts";
import type { Rng } from "../rng.ts";

/** A marker no other process on the machine carries: `chaosmark-<hex>`. */
/** What every kill scenario starts from: a workspace with the work SOPs, its marker, a kill log. */
export async function killStage(ctx: ScenarioContext, tally: Tally): Promise<{ ws: Workspace; marker: string; kills: KillLog; deps: FleetDeps }> {
  const ws = await scenarioWorkspace(ctx, tally);
  const marker = newMarker();
  ctx.cleanup.push("kill leftover commands", () => killMarked(marker));
  await addWorkSops(ws, marker);
  const kills = new KillLog();
  return { ws, marker, kills, deps: { ws, kills, cleanup: ctx.cleanup, note: (t: string) => tally.note(t), log: ctx.log } };
}

export function newMarker(): string {
  return `chaosmark-${randomBytes(5).toString("hex")}`;
}

export const WORK_SOPS = [
  { name: "chaos-once", retries: 0 },
  { name: "chaos-retry", retries: 2 },
] as const;

/** Step 2 (the long one) has the SOP's retries; the others none. */
export function retriesOf(sop: string, step: string): number {
  if (step !== "2") return 0;
  return WORK_SOPS.find((s) => s.name === sop)?.retries ?? 0;
}

export async function addWorkSops(ws: Workspace, marker: string): Promise<void> {
  for (const { name, retries } of WORK_SOPS) {
    await ws.addSop(name, `description = "chaos: a long step${retries ? ` with retries: ${retries}` : " without retries"}"\nexecution_mode = "automatic"\nmax_concurrent = 4`, journalSteps(marker, [
      { title: "Prepare", sleep: "0.1" },
      { title: "Long", sleep: '"${SOP_VAR_SLEEP:-1}"', ...(retries ? { attrs: `retries: ${retries}` } : {}) },
      { title: "Finish", sleep: "0.1" },
    ]));
  }
}

/**
 * Settings that make takeovers quick: claims of 3 s (the upper end of quick: two cores busy
 * starting processes must not stall a live worker past its claim), sweeps and stalled checks
 * every 1–2 s.
 */
export const FAST_RECOVERY = {
  SOP_LOCK_DURATION_MS: "3000",
  SOP_STALLED_INTERVAL_MS: "1000",
  SOP_SWEEP_INTERVAL_MS: "2000",
  SOP_SHUTDOWN_GRACE_SECS: "1",
} as const;

export interface Submitted {
  accepted: string[];
  /** Requests that got no answer (the serve died under them): the run may or may not exist. */
  unanswered: number;
  refused: string[];
}

/**
 * Submits `total` runs over the API of whichever serve is up, in bursts of 1–5, keeping about
 * `inFlight` runs queued or going, so that the kills find runs queued, starting and running
 * for as long as they last.
 */
export async function submitRuns(opts: {
  rng: Rng; total: number; serves: () => readonly ChaosServe[]; sleepRange: [number, number];
  reader: StoreReader; inFlight: number;
}): Promise<Submitted> {
  const { rng, total } = opts;
  const out: Submitted = { accepted: [], unanswered: 0, refused: [] };
  let sent = 0;
  while (sent < total) {
    const going = (await opts.reader.read((s) => s.list({ statuses: ["queued", "running"] }))).length;
    if (going >= opts.inFlight) {
      await new Promise((r) => setTimeout(r, rng.between(100, 500)));
      continue;
    }
    const burst = Math.min(total - sent, rng.int(1, 5));
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < burst; i++) {
      const sop = rng.pick(WORK_SOPS).name;
      const sleep = rng.between(...opts.sleepRange).toFixed(2);
      sent++;
      jobs.push((async () => {
        const serve = await someServeUp(opts.serves);
        try {
          const res = await serve.api<{ run_id?: string; error?: string }>("POST", "/api/sop/execute", { body: { sop, vars: { sleep } } });
          if (res.status === 202 && res.json.run_id) out.accepted.push(res.json.run_id);
          else out.refused.push(`${serve.name} answered ${res.status}: ${JSON.stringify(res.json).slice(0, 200)}`);
        } catch {
          out.unanswered++;
        }
      })());
    }
    await Promise.all(jobs);
    await new Promise((r) => setTimeout(r, rng.between(100, 800)));
  }
  return out;
}

async function someServeUp(serves: () => readonly ChaosServe[]): Promise<ChaosServe> {
  for (;;) {
    const up = serves().filter((s) => s.up);
    if (up.length > 0) return up[Math.floor(Math.random() * up.length)]!;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A random moment while steps run: once a step has started since `since` (the journal's count
 * of starts), plus up to `jitterMs`. Undefined when nothing starts within `maxWaitMs` (the runs
 * are all over: there is nothing left to interrupt).
 */
export async function nextMoment(tmpDir: string, since: number, rng: Rng, jitterMs: number, maxWaitMs = 8000): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const starts = (await readJournal(tmpDir)).filter((e) => e.kind === "start").length;
    if (starts > since) {
      await new Promise((r) => setTimeout(r, rng.between(0, jitterMs)));
      return starts;
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface AfterChaos {
  ctx: ScenarioContext;
  tally: Tally;
  ws: Workspace;
  marker: string;
  kills: KillLog;
  reader: StoreReader;
  submitted: Submitted;
  /** LOGS_DIRs of the serves, each must hold every ended run's final sealed file. */
  logsDirs: { name: string; dir: string }[];
  verify: VerifyTarget;
  tamper: boolean;
  stallMs: number;
  auditWaitMs: number;
}

/** Everything counted once the chaos stopped and every process is up again. */
export async function checkAfterChaos(a: AfterChaos): Promise<void> {
  const { tally, ctx } = a;
  const verify = { ...a.verify, inProcess: ctx.size === "small" };
  tally.measures("lostOrStuck", "completedReRun", "orphans", "auditNotFinal", "chainFalseAlarms");
  const settle = await waitSettled(a.reader, { expected: a.submitted.accepted, stallMs: a.stallMs, maxMs: 5 * 60_000, log: ctx.log });
  countSettle(settle, tally, a.reader.label);
  const byStatus = new Map<string, number>();
  for (const r of settle.runs) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  ctx.log(`${settle.runs.length} runs (${a.submitted.accepted.length} accepted, ${a.submitted.unanswered} unanswered): ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(", ")}; ${a.kills.kills.length} kills`);
  for (const r of settle.runs) {
    const odd = r.steps.filter((s) => s.status === "failed" && s.reason !== "interrupted");
    if (odd.length > 0) tally.note(`run ${r.id} of ${r.sop} failed otherwise than interrupted: ${odd.map((s) => `step ${s.number} (attempt ${s.attempt}): ${s.reason ?? ""} ${JSON.stringify(s.output.slice(-300))}`).join("; ")}`);
  }
  if (a.submitted.refused.length > 0) tally.note(`executes refused: ${a.submitted.refused.slice(0, 3).join("; ")}`);

  const fates = new Map<string, number>();
  const retried = await a.reader.read(async (store) => {
    const keys = new Set<string>();
    for (const run of settle.runs) {
      for (const step of (await store.finalRecord(run.id))?.steps ?? []) {
        if (step.output.includes("interrupted; retry")) keys.add(`${run.id} ${step.number}`);
        // What recovery said of each orphaned command: "was stopped", "had ended", "may still be running" …
        for (const m of step.output.matchAll(/--- interrupted(?:; retry \d+ of \d+)?(?: \((.*?)\))? ---/g)) {
          const fate = (m[1] ?? "no fate given").replace(/\d+/g, "N").replace(/ on \S+/, "");
          fates.set(fate, (fates.get(fate) ?? 0) + 1);
        }
      }
    }
    return keys;
  });
  if (fates.size > 0) tally.note(`what recovery said of interrupted commands: ${[...fates].map(([f, n]) => `${n}× "${f}"`).join(", ")}`);
  const journal = checkJournal(await readJournal(a.ws.tmpDir), retriesOf, a.kills, retried);
  for (const line of journal.reRuns) tally.add("completedReRun", 1, line);
  if (journal.atLeastOnce.length > 0) tally.note(`not counted, ${journal.atLeastOnce.length} step(s) with retries ran again because their worker died between the command's end and its record: ${journal.atLeastOnce.slice(0, 3).join(" | ")}`);

  const left = await leftovers(a.marker, 5000);
  if (left.length > 0) tally.add("orphans", left.length, `processes still running after every run ended: ${describeLeftovers(left).join(" | ")}`);
  killMarked(a.marker);

  for (const { name, dir } of a.logsDirs) {
    const notFinal = await checkAuditFiles(a.reader, dir, a.auditWaitMs, tally, name);
    await verifyUntouched(dir, verify, tally, name, notFinal);
  }
  const first = a.logsDirs[0];
  if (a.tamper && first) await tamperChecks(first.dir, join(a.ws.root, "scratch"), a.reader, verify, tally, first.name, ctx.log);
}

export interface KillSizes {
  runs: number;
  kills: number;
  sleepRange: [number, number];
  /** Runs kept queued or going while submitting. */
  inFlight: number;
}

export function killSizes(size: Size, full: KillSizes): KillSizes {
  return size === "full" ? full : { runs: 14, kills: 3, sleepRange: [0.2, 1.2], inFlight: 8 };
}
