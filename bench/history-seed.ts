/**
 * Fills a store with many ended runs fast, for bench/history.bench.ts: each with its seal, its
 * final record and its audit file, as if the bot had run them over the last three weeks.
 * - local: run files written straight into DATA_DIR/runs (no runs.index: the first start builds
 *   it, as after an upgrade), without fsync;
 * - Redis: through the driver's own admit and update (its Lua scripts and indexes), the SOPs'
 *   chains in parallel.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { auditFilePath } from "../src/audit/audit-path.ts";
import { auditRecord } from "../src/core/audit/audit-record.ts";
import { newRun } from "../src/core/run/new-run.ts";
import type { RunState, RunStatus } from "../src/core/run/run-state.ts";
import type { SopDefinition } from "../src/core/sop/types.ts";
import type { RedisRunStore } from "../src/drivers/redis/redis-run-store.ts";
import type { RunEnding, StoredRun } from "../src/ports/run-store.ts";
import { definition } from "../test/contract/fixtures.ts";

const DAY = 86_400_000;
/** Status mix of the history: mostly successes. */
const STATUSES: readonly RunStatus[] = [...Array<RunStatus>(14).fill("success"), "failed", "failed", "failed", "cancelled", "cancelled", "denied"];
const WRITE_BATCH = 256;

export interface SeededRun {
  id: string;
  sop: string;
  status: RunStatus;
}

export const sopNames = (count: number) => Array.from({ length: count }, (_, i) => `history-${String(i).padStart(2, "0")}`);

/** The SOP folders the server loads (one note step each): the seeded runs pin their own definitions. */
export async function writeSops(sopsDir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await mkdir(join(sopsDir, name), { recursive: true });
    await writeFile(join(sopsDir, name, "SOP.toml"), `[sop]\nname = "${name}"\ndescription = "history bench"\nexecution_mode = "automatic"\n`);
    await writeFile(join(sopsDir, name, "SOP.md"), "## Steps\n\n1. **Say**\n   ```sh\n   echo hi\n   ```\n");
  }
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** The i-th run of the SOP's chain, ended, with its seal after `prevHash`. */
function endedRun(def: SopDefinition, i: number, total: number, now: number, prevHash: string): { stored: StoredRun; ending: RunEnding; queued: RunState } {
  // Spread over the last 21 days, oldest first, a few ms apart so the order is total.
  const queuedAt = now - 21 * DAY + Math.floor((i / total) * 21 * DAY);
  const queued = newRun(def, { id: `h${def.name.slice(-2)}-${String(i).padStart(6, "0")}`, definitionHash: "a".repeat(64), trigger: { type: "manual", source: "bench" }, requestedBy: "api:bench", vars: {}, now: queuedAt });
  const status = STATUSES[i % STATUSES.length]!;
  const run: RunState = {
    ...queued, status, revision: 2, startedAt: queuedAt + 5, completedAt: queuedAt + 1_500,
    steps: queued.steps.map((s) => ({ ...s, status: status === "success" ? "success" : "failed", startedAt: queuedAt + 5, completedAt: queuedAt + 1_500, exitCode: status === "success" ? 0 : 1, output: "hi\n" })),
  };
  const base = auditRecord(def, run, (t) => t);
  const seq = i + 1;
  const hash = sha(`${def.name}:${seq}:${prevHash}`);
  const record = { ...base, seq, prev_hash: prevHash, hash };
  return { stored: { run, definition: def, dir: `/sops/${def.name}` }, ending: { seal: { seq, prevHash, hash }, record }, queued };
}

async function writeAuditFile(logsDir: string, run: RunState, record: unknown): Promise<void> {
  const path = auditFilePath(logsDir, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
  await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
}

/** Local: `perSop` ended runs of each SOP as run files in DATA_DIR/runs, with their audit files. */
export async function seedLocal(o: { dataDir: string; logsDir: string; sops: readonly string[]; perSop: number; now: number }): Promise<number> {
  const runsDir = join(o.dataDir, "runs");
  await mkdir(runsDir, { recursive: true, mode: 0o700 });
  let n = 0;
  for (const name of o.sops) {
    const def: SopDefinition = { ...definition, name };
    await mkdir(join(o.logsDir, "sop", name), { recursive: true });
    let prevHash = "0".repeat(64);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < o.perSop; i++) {
      const { stored, ending } = endedRun(def, i, o.perSop, o.now, prevHash);
      prevHash = ending.seal.hash;
      const file = { ...stored, seal: ending.seal, record: ending.record };
      writes.push(writeFile(join(runsDir, `${stored.run.id}.json`), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 }));
      writes.push(writeAuditFile(o.logsDir, stored.run, ending.record));
      if (writes.length >= WRITE_BATCH) await Promise.all(writes.splice(0));
      n++;
    }
    await Promise.all(writes);
  }
  return n;
}

/** Redis: the same history through the driver (admit, then the ending update with its seal), SOPs in parallel. */
export async function seedRedis(o: { store: RedisRunStore; logsDir: string; sops: readonly string[]; perSop: number; now: number }): Promise<number> {
  let n = 0;
  await Promise.all(o.sops.map(async (name) => {
    const def: SopDefinition = { ...definition, name, maxConcurrent: 1_000_000 };
    await mkdir(join(o.logsDir, "sop", name), { recursive: true });
    let prevHash = "0".repeat(64);
    for (let i = 0; i < o.perSop; i++) {
      const { stored, ending, queued } = endedRun(def, i, o.perSop, o.now, prevHash);
      prevHash = ending.seal.hash;
      const admitted = await o.store.admit({ ...stored, run: queued }, { cooldownSecs: 0, force: true, now: queued.queuedAt });
      if (!admitted.accepted) throw new Error(`seeding: run ${queued.id} was refused`);
      const outcome = await o.store.update(queued.id, queued.revision, { ...stored.run, revision: queued.revision + 1 }, ending);
      if (!outcome.ok) throw new Error(`seeding: ending run ${queued.id} failed (${outcome.why})`);
      await writeAuditFile(o.logsDir, stored.run, ending.record);
      n++;
    }
  }));
  return n;
}

