/**
 * SOP_RETENTION_DAYS: `sop serve` and `sop worker` forget ended runs past the retention from the
 * store, never a run going on, never one whose audit file is not written, never an audit file.
 */
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import { verifyAuditDir } from "../../src/audit/verify-audit.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { TestClock } from "../helpers/test-clock.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const DAY = 86_400_000;
const url = await redisUrlForTests();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(url!, p);
});

let ws: Workspace;
const runners: SopRunner[] = [];
beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addSop("plain", `description = "x"\nexecution_mode = "automatic"`, steps("**Say**\n```sh\necho hi\n```"));
  await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"`, steps("**Deploy** [requires_approval: true]\n```sh\ntrue\n```"));
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
  await ws.remove();
});

const drivers = [
  { name: "local", env: () => ({}) },
  ...(url === undefined ? [] : [{ name: "redis", env: () => ({ REDIS_URL: url, SOP_REDIS_PREFIX: prefixes[prefixes.length - 1]! }) }]),
];

describe.each(drivers)("retention ($name)", (driver) => {
  beforeEach(() => {
    prefixes.push(testPrefix());
  });

  async function open(clock: TestClock, extra: Record<string, string>, o: { retention?: boolean; log?: Logger } = {}): Promise<SopRunner> {
    const env = ws.env({ ...driver.env(), ...extra });
    const runner = await ws.runner({ env, clock, ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}), retention: o.retention ?? false, ...(o.log ? { log: o.log } : {}) });
    runners.push(runner);
    return runner;
  }

  it("prunes finished runs older than the retention, once their audit files are written, and keeps the rest and every audit file", async () => {
    const clock = new TestClock();
    let runner = await open(clock, {});
    const old1 = await runner.execute("plain");
    const old2 = await runner.execute("plain");
    const waiting = await runner.execute("gated");
    expect([old1.status, old2.status, waiting.status]).toEqual(["success", "success", "awaiting_approval"]);
    await runner.close();
    runners.length = 0;

    await clock.advance(31 * DAY);
    const lines: string[] = [];
    const log: Logger = { info: (_o, m) => lines.push(m ?? ""), warn() {}, error: (_o, m) => lines.push(`error: ${m ?? ""}`), debug() {} };
    runner = await open(clock, { SOP_RETENTION_DAYS: "30" }, { retention: true, log });
    const recent = await runner.execute("plain");
    // The audit sink marks at start what LOGS_DIR holds; the hourly prune then removes up to it.
    await until("the audit marks", () => existsSync(join(ws.logsDir, ".audit-written.json")));
    await clock.advance(3_600_000);
    await until("the prune's line in the log", () => lines.some((l) => l.startsWith("retention:")));
    expect(await runner.run(old1.run_id)).toBeUndefined();
    expect(await runner.run(old2.run_id)).toBeUndefined();

    expect((await runner.history({ limit: 10 })).runs.map((r) => r.id).sort()).toEqual([recent.run_id, waiting.run_id].sort());
    expect((await runner.run(waiting.run_id))?.run.status).toBe("awaiting_approval");
    expect(lines.filter((l) => l.startsWith("retention:"))).toEqual(["retention: forgot 2 run(s) that ended over 30 day(s) ago (plain 2); their audit files stay"]);
    expect((await ws.auditFiles("plain")).map((r) => r.run_id).sort()).toEqual([old1.run_id, old2.run_id, recent.run_id].sort());
    const report = await verifyAuditDir(ws.logsDir, { heads: await runner.chainHeads() });
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(3);

    // After a restart the pruned runs stay gone and the chain goes on from its head.
    await runner.close();
    runners.length = 0;
    runner = await open(clock, { SOP_RETENTION_DAYS: "30" });
    expect(await runner.run(old1.run_id)).toBeUndefined();
    expect(await runner.execute("plain")).toMatchObject({ status: "success", seq: 4 });
    expect((await verifyAuditDir(ws.logsDir, { heads: await runner.chainHeads() })).problems).toEqual([]);
  });

  it("prunes no run whose audit file could not be written", async () => {
    const clock = new TestClock();
    let runner = await open(clock, {});
    const old = await runner.execute("plain");
    await runner.close();
    runners.length = 0;
    // Its audit file is gone and cannot be written again: a file stands where the SOP's folder was.
    await rm(join(ws.logsDir, "sop", "plain"), { recursive: true });
    await writeFile(join(ws.logsDir, "sop", "plain"), "");
    await clock.advance(40 * DAY);
    const lines: string[] = [];
    const log: Logger = { info: (_o, m) => lines.push(m ?? ""), warn() {}, error: (_o, m) => lines.push(`error: ${m ?? ""}`), debug() {} };
    runner = await open(clock, { SOP_RETENTION_DAYS: "30" }, { retention: true, log });
    await until("the failed audit write", () => lines.some((l) => l.startsWith("error: audit:")));
    await clock.advance(3 * 3_600_000);
    expect((await runner.run(old.run_id))?.run.status).toBe("success");
    expect(lines.filter((l) => l.startsWith("retention:"))).toEqual([]);
    expect(existsSync(join(ws.logsDir, ".audit-written.json"))).toBe(false);
  });

  it("writes the audit files of a LOGS_DIR emptied since again before it prunes their runs", async () => {
    const clock = new TestClock();
    let runner = await open(clock, {});
    const old = [await runner.execute("plain"), await runner.execute("plain")];
    await runner.close();
    runners.length = 0;
    // A start marks in the store what LOGS_DIR holds.
    runner = await open(clock, {});
    await until("the audit marks", () => existsSync(join(ws.logsDir, ".audit-written.json")));
    await runner.close();
    runners.length = 0;
    // The store still says both files are written; the volume holding them was replaced.
    await rm(ws.logsDir, { recursive: true });
    await clock.advance(40 * DAY);
    const lines: string[] = [];
    const log: Logger = { info: (_o, m) => lines.push(m ?? ""), warn() {}, error: (_o, m) => lines.push(`error: ${m ?? ""}`), debug() {} };
    runner = await open(clock, { SOP_RETENTION_DAYS: "30" }, { retention: true, log });
    await until("the prune's line in the log", () => lines.some((l) => l.startsWith("retention:")));
    expect(await runner.run(old[0]!.run_id)).toBeUndefined();
    expect((await ws.auditFiles("plain")).map((r) => r.run_id).sort()).toEqual(old.map((r) => r.run_id).sort());
    expect((await verifyAuditDir(ws.logsDir, { heads: await runner.chainHeads() })).problems).toEqual([]);
  });

  it("keeps every run with SOP_RETENTION_DAYS=off", async () => {
    const clock = new TestClock();
    let runner = await open(clock, {}, {});
    const old = await runner.execute("plain");
    await runner.close();
    runners.length = 0;
    await clock.advance(40 * DAY);
    runner = await open(clock, { SOP_RETENTION_DAYS: "off" }, { retention: true });
    await until("the audit marks", () => existsSync(join(ws.logsDir, ".audit-written.json")));
    await clock.advance(3 * 3_600_000);
    expect((await runner.run(old.run_id))?.run.status).toBe("success");
  });
});
