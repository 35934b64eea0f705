/**
 * The chaos suite's own measures, checked on cases made by hand: a count that can never be
 * anything but 0 would prove nothing.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { auditFilePath } from "../../src/audit/audit-path.ts";
import type { AuditRecord } from "../../src/core/audit/audit-record.ts";
import { GENESIS_HASH, sealRecord } from "../../src/audit/hash-record.ts";
import { verifyAuditDir } from "../../src/audit/verify-audit.ts";
import { until } from "../helpers/until.ts";
import { chainOf, TAMPERS } from "./audit-checks.ts";
import { KillLog } from "./fleet.ts";
import { decisionProblems } from "./scenarios/decisions.ts";
import { killMarked, leftovers } from "./orphans.ts";
import { checkJournal, type JournalEntry } from "./step-journal.ts";

const entry = (kind: "start" | "done", at: number, ppid = 100, step = "2"): JournalEntry => ({ sop: "s", runId: "r1", step, kind, ppid, at });
const kills = (...list: [number, number][]): KillLog => {
  const log = new KillLog();
  log.kills.push(...list.map(([pid, at]) => ({ pid, at, what: "worker" })));
  return log;
};

describe("the journal check", () => {
  it("counts a step without retries that started twice, though it never finished", () => {
    const report = checkJournal([entry("start", 1000), entry("start", 5000, 200)], () => 0, new KillLog());
    expect(report.reRuns).toHaveLength(1);
  });

  it("does not count a retried step whose worker was killed right after it finished, the store saying it was interrupted", () => {
    const report = checkJournal([entry("start", 1000), entry("done", 2000), entry("start", 5000, 200)], () => 2, kills([100, 2010]), new Set(["r1 2"]));
    expect(report).toMatchObject({ reRuns: [], atLeastOnce: [expect.stringContaining("killed 10 ms later")] });
  });

  it("counts that re-run when the store does not say the step was interrupted", () => {
    const report = checkJournal([entry("start", 1000), entry("done", 2000), entry("start", 5000, 200)], () => 2, kills([100, 2010]));
    expect(report.reRuns).toHaveLength(1);
  });

  it("counts a re-run after a finish when its worker lived on for seconds", () => {
    const report = checkJournal([entry("start", 1000), entry("done", 2000), entry("start", 9000, 200)], () => 2, kills([100, 8000]), new Set(["r1 2"]));
    expect(report.reRuns).toHaveLength(1);
  });
});

describe("the tamperings", () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function sealedLog(n: number): Promise<{ seq: number; hash: string }> {
    dir = await mkdtemp(join(tmpdir(), "chaos-tamper-"));
    let prev = GENESIS_HASH;
    let head = { seq: 0, hash: GENESIS_HASH };
    for (let seq = 1; seq <= n; seq++) {
      const startedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, seq));
      const record = sealRecord({ sop: "s", run_id: `r${seq}`, started_at: startedAt.toISOString(), status: "success", requested_by: "api:alice" }, { seq, prevHash: prev });
      const path = auditFilePath(dir, "s", startedAt, `r${seq}`);
      await mkdir(join(dir, "sop", "s"), { recursive: true });
      await writeFile(path, JSON.stringify(record));
      prev = record.hash;
      head = { seq, hash: record.hash };
    }
    return head;
  }

  it("leave an untouched log that verifies", async () => {
    const head = await sealedLog(8);
    expect((await verifyAuditDir(dir, { heads: new Map([["s", head]]) })).problems).toEqual([]);
  });

  it.each(TAMPERS.map((t) => [t.name, t] as const))("%s: verify notices it", async (_name, tamper) => {
    const head = await sealedLog(8);
    await tamper.apply(await chainOf(dir, "s"));
    expect((await verifyAuditDir(dir, { heads: new Map([["s", head]]) })).problems).not.toEqual([]);
  });
});

describe("the leftover count", () => {
  it("finds a process that carries the marker, and kills it by its pid", async () => {
    const marker = `chaosmark-selftest-${randomBytes(4).toString("hex")}`;
    const child = spawn("sh", ["-c", "sleep 30; :", `${marker}:left:r1:2`], { detached: true, stdio: "ignore" });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      expect(await until("the marked process to show", async () => ((await leftovers(marker, 0)).length === 1 ? true : undefined))).toBe(true);
      expect(killMarked(marker)).toBe(1);
      await exited;
      expect(await leftovers(marker, 0)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("the decision check", () => {
  const gate = { sop: "g", min: 2, mix: "both" as const };
  const record = (decision: string, by: string[], status: string) => ({ status, approvals: [{ gate: "step:1", decision, by }] }) as unknown as AuditRecord;

  it("passes one gate approved by exactly min_approvals people, each told 200", () => {
    expect(decisionProblems(gate, record("approved", ["api:a", "api:b"], "success"), { approve200: 2, deny200: 0, other: [] })).toEqual([]);
  });

  it("counts an approval told 200 beyond what the gate recorded, and a deny told 200 on an approved gate", () => {
    expect(decisionProblems(gate, record("approved", ["api:a", "api:b"], "success"), { approve200: 3, deny200: 1, other: [] })).toHaveLength(1);
  });

  it("counts a gate approved by more people than it needs, or by one person twice", () => {
    expect(decisionProblems(gate, record("approved", ["api:a", "api:a", "api:b"], "success"), { approve200: 2, deny200: 0, other: [] }).length).toBeGreaterThan(1);
  });

  it("counts a denied gate whose run went on", () => {
    expect(decisionProblems(gate, record("denied", ["api:c"], "success"), { approve200: 1, deny200: 1, other: [] })).toHaveLength(1);
  });
});
