/**
 * 10 `sop run serial` at once against Redis with no server (SOP_SERVER_URL names a closed port,
 * so each CLI is a full node of its own): the SOP has max_concurrent = 1. Every CLI must exit 0
 * with its run's success, and never may two runs of the SOP be active at the same time.
 */
import { join } from "node:path";
import type { AuditRecord } from "../../../src/core/audit/audit-record.ts";
import { spawnSop, type CliResult } from "../../helpers/cli.ts";
import { freePort } from "../../helpers/private-redis.ts";
import { deleteKeys, testPrefix } from "../../helpers/redis.ts";
import { verifyUntouched } from "../audit-checks.ts";
import { KillLog } from "../fleet.ts";
import { scenarioWorkspace, type Scenario } from "../harness.ts";
import { describeLeftovers, killMarked, leftovers } from "../orphans.ts";
import { checkAuditFiles, countSettle, StoreReader, waitSettled } from "../run-checks.ts";
import { checkJournal, journalSteps, readJournal } from "../step-journal.ts";
import { FAST_RECOVERY, newMarker } from "./kill-common.ts";

/** `sop …` as its own process, killed (and reported so) if it has not ended within `limitMs`. */
function runCli(args: string[], cwd: string, env: Record<string, string>, limitMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnSop(args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed: still running after ${limitMs / 1000} s)`;
      child.kill("SIGKILL");
    }, limitMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const serialStarters: Scenario = {
  name: "serial-starters",
  title: "10 `sop run` CLIs at once (in-process, Redis) on a max_concurrent = 1 SOP",
  needsRedis: true,
  async run(ctx, tally) {
    const { cleanup } = ctx;
    const url = ctx.redisUrl!;
    const starters = ctx.size === "full" ? 10 : 5;
    tally.measures("lostOrStuck", "completedReRun", "orphans", "duplicateDecisions", "auditNotFinal", "chainFalseAlarms");
    const prefix = testPrefix();
    cleanup.push("delete the Redis keys", () => deleteKeys(url, prefix));
    const ws = await scenarioWorkspace(ctx, tally);
    const marker = newMarker();
    cleanup.push("kill leftover commands", () => killMarked(marker));
    await ws.addSop("serial", `description = "chaos: one at a time"\nexecution_mode = "automatic"\nmax_concurrent = 1`, journalSteps(marker, [{ title: "Alone", sleep: "0.3" }]));
    const closed = await freePort();
    const env = ws.env({
      ...FAST_RECOVERY, REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir,
      DATA_DIR: ws.dataDir, SOP_SERVER_URL: `http://127.0.0.1:${closed}`,
    });
    const limitMs = ctx.size === "full" ? 120_000 : 60_000;
    const results = await Promise.all(Array.from({ length: starters }, () => runCli(["run", "serial", "--json"], ws.root, env, limitMs)));
    const runIds: string[] = [];
    results.forEach((r, i) => {
      let record: AuditRecord | undefined;
      try {
        record = JSON.parse(r.stdout) as AuditRecord;
      } catch {
        // counted below
      }
      if (record?.run_id) runIds.push(record.run_id);
      if (r.code !== 0 || record?.status !== "success") {
        tally.add("lostOrStuck", 1, `starter ${i + 1} exited ${r.code} with ${record ? `run ${record.run_id} ${record.status}` : "no record"}: ${r.stderr.slice(-400)}`);
      }
    });
    ctx.log(`${results.filter((r) => r.code === 0).length} of ${starters} starters exited 0`);

    const reader = await StoreReader.redis(url, prefix);
    cleanup.push("close the store reader", () => reader.close());
    const settle = await waitSettled(reader, { expected: runIds, stallMs: 20_000, maxMs: 60_000, log: ctx.log });
    countSettle(settle, tally, reader.label);
    const records = (await reader.read((s) => Promise.all(settle.runs.map((r) => s.finalRecord(r.id))))).filter((r): r is AuditRecord => r !== undefined);
    const spans = records.filter((r) => r.started_at && r.completed_at).map((r) => ({ id: r.run_id, from: Date.parse(r.started_at!), to: Date.parse(r.completed_at!) })).sort((a, b) => a.from - b.from);
    for (let i = 1; i < spans.length; i++) {
      const overlapping = spans.slice(0, i).filter((s) => s.to > spans[i]!.from);
      if (overlapping.length > 0) tally.add("duplicateDecisions", 1, `run ${spans[i]!.id} started at ${new Date(spans[i]!.from).toISOString()} while ${overlapping.map((s) => `${s.id} (until ${new Date(s.to).toISOString()})`).join(", ")} was active (max_concurrent = 1)`);
    }

    const journal = checkJournal(await readJournal(ws.tmpDir), () => 0, new KillLog());
    for (const line of journal.reRuns) tally.add("completedReRun", 1, line);
    const left = await leftovers(marker, 5000);
    if (left.length > 0) tally.add("orphans", left.length, describeLeftovers(left).join(" | "));
    const notFinal = await checkAuditFiles(reader, ws.logsDir, 6000, tally, "the CLIs' LOGS_DIR");
    await verifyUntouched(ws.logsDir, { cwd: ws.root, env: ws.env({ REDIS_URL: url, SOP_REDIS_PREFIX: prefix, SOPS_DIR: ws.sopsDir, DATA_DIR: join(ws.root, "data") }), inProcess: ctx.size === "small" }, tally, "the CLIs' LOGS_DIR", notFinal);
  },
};
