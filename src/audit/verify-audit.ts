import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { auditTimestamp } from "./audit-path.ts";
import { GENESIS_HASH, hashRecord } from "./hash-record.ts";

export interface AuditProblem {
  /** The SOP whose log has the problem: the folder for a file's own problems, the chain otherwise. */
  sop: string;
  /** Relative to logsDir, e.g. `sop/deploy/20260225T130000000Z-r1.json`. */
  file?: string;
  seq?: number;
  kind: "edited" | "missing" | "out_of_order" | "misnamed" | "unreadable" | "truncated";
  message: string;
}

export interface AuditReport {
  /** SOPs checked: folders under `sop/`, chains named by records, and SOPs in `heads`. */
  sops: number;
  /** Final (sealed) records checked. */
  records: number;
  /** Records of runs still in progress (no seal yet); checked for naming only. */
  inProgress: number;
  problems: AuditProblem[];
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface VerifyAuditOptions {
  /** The store's latest `{ seq, hash }` per SOP; without it a removed tail cannot be noticed. */
  heads?: ReadonlyMap<string, ChainHead>;
  /** Only this SOP's folder (the web UI's audit page): the others are not read. */
  sop?: string;
}

interface Sealed {
  chain: string;
  file: string;
  seq: number;
  hash: string | undefined;
  prevHash: string | undefined;
  edited: boolean;
  misnamed: boolean;
}

interface FileResult {
  folder: string;
  problems: AuditProblem[];
  sealed?: Sealed;
  inProgress: boolean;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks every audit record under `<logsDir>/sop/<name>/*.json` (dot files, i.e. temp files, are
 * skipped) and names each record that was edited, removed, put out of order or moved. Chains are
 * keyed by the record's own `sop` member, which the hash protects, rather than by its folder.
 * Throws when logsDir itself does not exist (a mistyped path should not pass as a clean log).
 */
export async function verifyAuditDir(logsDir: string, options: VerifyAuditOptions = {}): Promise<AuditReport> {
  const heads = options.heads ?? new Map<string, ChainHead>();
  const files = await listAuditFiles(logsDir, options.sop);
  const results = await mapLimit(files, 16, ({ folder, name }) => checkFile(logsDir, folder, name));

  const chains = new Map<string, Sealed[]>();
  for (const { sealed } of results) {
    if (sealed) chains.set(sealed.chain, [...(chains.get(sealed.chain) ?? []), sealed]);
  }
  const names = new Set([...files.map((f) => f.folder), ...chains.keys(), ...heads.keys()]);
  const problems: AuditProblem[] = [];
  for (const sop of [...names].sort()) {
    for (const result of results) if (result.folder === sop) problems.push(...result.problems);
    problems.push(...checkChain(sop, chains.get(sop) ?? [], heads.get(sop)));
  }
  return {
    sops: names.size,
    records: results.filter((r) => r.sealed).length,
    inProgress: results.filter((r) => r.inProgress).length,
    problems,
  };
}

async function listAuditFiles(logsDir: string, only?: string): Promise<{ folder: string; name: string }[]> {
  const root = join(logsDir, "sop");
  const folders = await readdirOrNull(root);
  if (folders === null) {
    const info = await stat(logsDir).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`cannot verify the audit log: ${logsDir} does not exist or is not a folder`);
    return [];
  }
  const files: { folder: string; name: string }[] = [];
  for (const folder of folders.filter((f) => visible(f) && (only === undefined || f === only)).sort()) {
    const names = await readdirOrNull(join(root, folder));
    for (const name of (names ?? []).filter((n) => visible(n) && n.endsWith(".json")).sort()) files.push({ folder, name });
  }
  return files;
}

async function checkFile(logsDir: string, folder: string, name: string): Promise<FileResult> {
  const file = join("sop", folder, name);
  const result: FileResult = { folder, problems: [], inProgress: false };
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(await readFile(join(logsDir, file), "utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("it is not a JSON object");
    record = parsed as Record<string, unknown>;
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    result.problems.push({ sop: folder, file, kind: "unreadable", message: `${file} cannot be read as an audit record (${cause})` });
    return result;
  }
  const chain = typeof record.sop === "string" ? record.sop : folder;
  const { seq, hash, prev_hash: prevHash } = record;
  const sealed = seq !== undefined || hash !== undefined || prevHash !== undefined;
  const validSeq = Number.isSafeInteger(seq) && (seq as number) >= 1 ? (seq as number) : undefined;
  const at = validSeq === undefined ? {} : { seq: validSeq };
  const problem = (kind: AuditProblem["kind"], message: string): void => {
    result.problems.push({ sop: folder, file, ...at, kind, message });
  };

  const misnamed = namingMismatch(folder, name, record);
  if (misnamed) problem("misnamed", `${file} ${misnamed}`);
  if (!sealed) {
    result.inProgress = true;
    return result;
  }
  const label = validSeq === undefined ? file : `${file} (seq ${validSeq})`;
  const goodHash = typeof hash === "string" && SHA256_HEX.test(hash) ? hash : undefined;
  const goodPrev = typeof prevHash === "string" && SHA256_HEX.test(prevHash) ? prevHash : undefined;
  const damaged = validSeq === undefined || goodHash === undefined || goodPrev === undefined;
  const edited = damaged || hashRecord(record) !== goodHash;
  if (damaged) {
    problem("edited", `${label} was edited: its seal is damaged (seq must be a positive integer, prev_hash and hash SHA-256 hex)`);
  } else if (edited) {
    problem("edited", `${label} was edited: its content no longer matches its hash`);
  }
  if (validSeq !== undefined) result.sealed = { chain, file, seq: validSeq, hash: goodHash, prevHash: goodPrev, edited, misnamed: misnamed !== undefined };
  return result;
}

/** Why the record does not belong at `sop/<folder>/<name>`, or undefined when it does. */
function namingMismatch(folder: string, name: string, record: Record<string, unknown>): string | undefined {
  const { sop, run_id: runId, started_at: startedAt } = record;
  if (typeof sop !== "string") return "has no sop member to be filed by";
  if (sop !== folder) return `holds a record of SOP ${sop} but lies in the folder of ${folder}`;
  if (typeof runId !== "string" || typeof startedAt !== "string") return "has no run_id or started_at to be named by";
  let expected: string;
  try {
    expected = `${auditTimestamp(new Date(startedAt))}-${runId}.json`;
  } catch {
    return `has a started_at that is not a valid time (${JSON.stringify(startedAt)})`;
  }
  return expected === name ? undefined : `holds run ${runId} started at ${startedAt}, whose file name is ${expected}`;
}

function checkChain(sop: string, sealed: Sealed[], head: ChainHead | undefined): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const bySeq = new Map<number, Sealed[]>();
  // Among records claiming one seq, the intact and rightly named one keeps it; the others are named.
  const suspicion = (s: Sealed): number => Number(s.edited) + Number(s.misnamed);
  for (const s of [...sealed].sort((a, b) => suspicion(a) - suspicion(b))) bySeq.set(s.seq, [...(bySeq.get(s.seq) ?? []), s]);
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  let previous: Sealed[] = [];
  for (const seq of seqs) {
    const group = bySeq.get(seq) ?? [];
    const first = group[0];
    if (!first) continue;
    for (const extra of group.slice(1)) {
      problems.push({ sop, file: extra.file, seq, kind: "out_of_order", message: `${extra.file} and ${first.file} both claim seq ${seq} of ${sop}; one of them was copied or put out of order` });
    }
    const expected = (previous[0]?.seq ?? 0) + 1;
    if (seq > expected) {
      const which = seq - 1 === expected ? `record seq ${expected}` : `records seq ${expected} to ${seq - 1}`;
      const where = previous[0] ? `between ${previous[0].file} and ${first.file}` : `before ${first.file}`;
      problems.push({ sop, seq: expected, kind: "missing", message: `${which} of ${sop} ${seq - 1 === expected ? "is" : "are"} missing (${where})` });
    } else {
      for (const s of group) {
        const problem = brokenLink(s, previous);
        if (problem) problems.push({ sop, file: s.file, seq, kind: "out_of_order", message: problem });
      }
    }
    previous = group;
  }
  if (head) problems.push(...checkHead(sop, head, bySeq, previous));
  return problems;
}

function brokenLink(s: Sealed, previous: Sealed[]): string | undefined {
  // A damaged seal or an edited predecessor is already reported; a link to it proves nothing more
  // and would name a record that is itself intact.
  if (s.prevHash === undefined || previous.some((p) => p.edited)) return undefined;
  if (s.seq === 1) {
    return s.prevHash === GENESIS_HASH ? undefined : `${s.file} (seq 1) does not start the chain: its prev_hash is not the genesis hash`;
  }
  if (previous.some((p) => p.hash === s.prevHash)) return undefined;
  return `${s.file} (seq ${s.seq}) is out of order: its prev_hash does not match the hash of seq ${s.seq - 1} (${previous.map((p) => p.file).join(", ")})`;
}

function checkHead(sop: string, head: ChainHead, bySeq: Map<number, Sealed[]>, last: Sealed[]): AuditProblem[] {
  const lastSeq = last[0]?.seq ?? 0;
  if (lastSeq < head.seq) {
    const message = last[0]
      ? `records after seq ${lastSeq} of ${sop} are missing (the last is ${last[0].file}); the store's chain head is seq ${head.seq}`
      : `no final record of ${sop} is left; the store's chain head is seq ${head.seq}`;
    return [{ sop, seq: lastSeq + 1, kind: "truncated", message }];
  }
  // Files may run ahead of a head read earlier; only the record at the head's seq must agree.
  const atHead = bySeq.get(head.seq);
  if (!atHead || atHead.some((s) => s.hash === head.hash)) return [];
  return atHead.map((s) => ({
    sop, file: s.file, seq: head.seq, kind: "edited" as const,
    message: `${s.file} (seq ${head.seq}) was replaced: its hash differs from the store's chain head`,
  }));
}

function visible(name: string): boolean {
  return !name.startsWith(".");
}

async function readdirOrNull(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new Error(`cannot verify the audit log: cannot list ${dir} (${(error as Error).message})`, { cause: error });
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
