/**
 * `sop audit verify` against a serve's LOGS_DIR: untouched it must pass (else a false alarm), and
 * on a tampered copy it must fail (else tampering was missed). The chain heads come from the
 * deployment's store, as in production: Redis under the prefix, or DATA_DIR.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { auditFilePath } from "../../src/audit/audit-path.ts";
import { hashRecord } from "../../src/audit/hash-record.ts";
import { isTerminal } from "../../src/core/run/run-state.ts";
import { main } from "../../src/cli/main.ts";
import { sop } from "../helpers/cli.ts";
import type { Tally } from "./harness.ts";
import type { StoreReader } from "./run-checks.ts";

export interface VerifyTarget {
  /** Where `sop` runs. */
  cwd: string;
  /** The deployment as `sop audit verify` sees it: REDIS_URL + SOP_REDIS_PREFIX, or DATA_DIR. */
  env: Record<string, string>;
  /**
   * Call the CLI's `main` here instead of spawning `sop` (the same code `bin/sop.js` runs, without
   * a second of start-up per call): for the fast subset.
   */
  inProcess?: boolean;
}

interface VerifyOutcome {
  code: number | null;
  problems: { kind: string; message: string }[];
  output: string;
}

async function runVerify(dir: string, target: VerifyTarget): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ["audit", "verify", dir, "--json"];
  if (!target.inProcess) return sop(args, target);
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false, env: target.env, cwd: target.cwd });
  return { code, stdout, stderr };
}

async function verify(dir: string, target: VerifyTarget): Promise<VerifyOutcome> {
  const res = await runVerify(dir, target);
  let problems: VerifyOutcome["problems"] = [];
  try {
    problems = (JSON.parse(res.stdout) as { problems: VerifyOutcome["problems"] }).problems;
  } catch {
    // no report (exit 2): the output says why
  }
  return { code: res.code, problems, output: `${res.stdout}${res.stderr}`.slice(0, 800) };
}

/** The untouched log must verify (exit 0). */
export async function verifyUntouched(logsDir: string, target: VerifyTarget, tally: Tally, where: string, notFinal = 0): Promise<void> {
  const out = await verify(logsDir, target);
  const alarms = out.code === 0 ? 0 : Math.max(1, out.problems.length);
  const why = notFinal > 0 ? ` (nobody tampered; ${notFinal} file(s) of this LOGS_DIR are not final, see auditNotFinal)` : "";
  tally.add("chainFalseAlarms", alarms, `${where}: sop audit verify ${logsDir} exited ${out.code}${why}: ${out.problems.map((p) => `${p.kind}: ${p.message}`).join("; ") || out.output}`);
}

export interface Sealed {
  file: string;
  record: Record<string, unknown> & { seq: number; prev_hash: string; hash: string };
}

export async function chainOf(dir: string, sopName: string): Promise<Sealed[]> {
  const folder = join(dir, "sop", sopName);
  const sealed: Sealed[] = [];
  for (const name of await readdir(folder)) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const record = JSON.parse(await readFile(join(folder, name), "utf8")) as Sealed["record"];
    if (typeof record.seq === "number") sealed.push({ file: join(folder, name), record });
  }
  return sealed.sort((a, b) => a.record.seq - b.record.seq);
}

const write = (s: Sealed): Promise<void> => writeFile(s.file, `${JSON.stringify(s.record, null, 2)}\n`);

function rehash(s: Sealed): void {
  s.record.hash = hashRecord(s.record);
}

export interface Tamper {
  name: string;
  /** Chain records needed for it to mean something. */
  needs: number;
  apply(chain: Sealed[]): Promise<void>;
}

/** What someone with write access to LOGS_DIR (and not to the store) might do. */
export const TAMPERS: readonly Tamper[] = [
  {
    name: "delete the newest record",
    needs: 2,
    apply: async (chain) => rm(chain.at(-1)!.file),
  },
  {
    name: "delete the 5 newest records, edit the new last one and rehash it",
    needs: 7,
    apply: async (chain) => {
      for (const s of chain.slice(-5)) await rm(s.file);
      const last = chain.at(-6)!;
      last.record.requested_by = "api:mallory";
      rehash(last);
      await write(last);
    },
  },
  {
    name: "edit a record's body",
    needs: 3,
    apply: async (chain) => {
      const s = chain[Math.floor(chain.length / 2)]!;
      s.record.status = s.record.status === "success" ? "failed" : "success";
      await write(s);
    },
  },
  {
    name: "swap two records' seqs",
    needs: 3,
    apply: async (chain) => {
      const a = chain[0]!;
      const b = chain[Math.floor(chain.length / 2)]!;
      [a.record.seq, b.record.seq] = [b.record.seq, a.record.seq];
      await write(a);
      await write(b);
    },
  },
  {
    name: "swap two neighbours and relink and rehash both",
    needs: 3,
    apply: async (chain) => {
      const i = Math.max(1, Math.floor(chain.length / 2) - 1);
      const before = chain[i - 1]!;
      const a = chain[i]!;
      const b = chain[i + 1]!;
      const seqA = a.record.seq;
      b.record.seq = seqA;
      b.record.prev_hash = before.record.hash;
      rehash(b);
      a.record.seq = seqA + 1;
      a.record.prev_hash = b.record.hash;
      rehash(a);
      await write(a);
      await write(b);
    },
  },
  {
    name: "edit a middle record and rehash the chain from it to the end",
    needs: 3,
    apply: async (chain) => {
      const from = Math.floor(chain.length / 2);
      chain[from]!.record.requested_by = "api:mallory";
      for (let i = from; i < chain.length; i++) {
        const s = chain[i]!;
        s.record.prev_hash = chain[i - 1]?.record.hash ?? s.record.prev_hash;
        rehash(s);
        await write(s);
      }
    },
  },
];

/**
 * A copy of `logsDir` in which every ended run's file holds the final record the store kept:
 * the log as it should be, so that tampering is judged apart from how complete the serve kept it.
 */
async function repairedCopy(logsDir: string, dest: string, reader: StoreReader): Promise<number> {
  await cp(logsDir, dest, { recursive: true });
  return reader.read(async (store) => {
    let replaced = 0;
    for (const run of await store.list()) {
      if (!isTerminal(run.status)) continue;
      const record = await store.finalRecord(run.id);
      if (!record) continue;
      const path = auditFilePath(dest, run.sop, new Date(run.startedAt ?? run.queuedAt), run.id);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
      replaced++;
    }
    return replaced;
  });
}

/**
 * Each tampering on its own copy of the log, applied to the SOP with the longest chain; each time
 * `sop audit verify` must exit 1. The copies start from `logsDir` with every ended run's file
 * made final from the store (which must then verify), so that a file the serve failed to finish
 * cannot pass for caught tampering. Two at a time, to spare the two cores.
 */
export async function tamperChecks(logsDir: string, scratch: string, reader: StoreReader, target: VerifyTarget, tally: Tally, where: string, log: (line: string) => void): Promise<void> {
  tally.measures("tamperingMissed");
  const baseline = join(scratch, "baseline");
  await repairedCopy(logsDir, baseline, reader);
  const clean = await verify(baseline, target);
  if (clean.code !== 0) {
    tally.add("chainFalseAlarms", Math.max(1, clean.problems.length), `${where}, made final from the store: sop audit verify exited ${clean.code}: ${clean.problems.map((p) => `${p.kind}: ${p.message}`).join("; ") || clean.output}`);
    tally.note(`${where}: tampering not judged: the untampered log, made final from the store, does not verify`);
    return;
  }
  const sops = await readdir(join(baseline, "sop")).catch(() => [] as string[]);
  let longest: { sop: string; length: number } | undefined;
  for (const name of sops) {
    const length = (await chainOf(baseline, name)).length;
    if (!longest || length > longest.length) longest = { sop: name, length };
  }
  if (!longest) {
    tally.note(`${where}: no sealed records to tamper with`);
    return;
  }
  const chosen = longest;
  const queue = TAMPERS.map((t, i) => ({ t, i }));
  const one = async ({ t, i }: { t: Tamper; i: number }): Promise<void> => {
    if (chosen.length < t.needs) {
      tally.note(`${where}: tampering "${t.name}" not tried: the longest chain (${chosen.sop}) has ${chosen.length} records, it needs ${t.needs}`);
      return;
    }
    const copy = join(scratch, `tampered-${i}`);
    await cp(baseline, copy, { recursive: true });
    try {
      await t.apply(await chainOf(copy, chosen.sop));
      const out = await verify(copy, target);
      if (out.code !== 1) tally.add("tamperingMissed", 1, `${where}: "${t.name}" on ${chosen.sop} (${chosen.length} records): sop audit verify exited ${out.code}: ${out.output}`);
      else log(`tampering "${t.name}" caught: ${out.problems.map((p) => p.kind).join(", ")}`);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  };
  const workers = [0, 1].map(async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await one(next);
  });
  await Promise.all(workers);
  await rm(baseline, { recursive: true, force: true });
}
