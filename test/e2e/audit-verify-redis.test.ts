/** `sop audit verify` with Redis reads the chain heads from Redis: a record removed from the end of a chain is named. */
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashRecord } from "../../src/audit/hash-record.ts";
import { sop } from "../helpers/cli.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("sop audit verify against Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let prefix: string;
  let copies = 0;
  // No server: SOP_SERVER_URL points at a closed port, so the CLI works in-process on Redis.
  const opts = () => ({ cwd: ws.root, env: ws.env({ REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, SOP_SERVER_URL: "http://127.0.0.1:1", SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir }) });
  const newest = async (dir: string, n: number): Promise<string[]> => (await readdir(dir)).sort().slice(-n);
  /** A copy of LOGS_DIR to tamper with; returns it and its folder of the SOP's records. */
  const copy = async (): Promise<[string, string]> => {
    const logs = join(ws.root, `logs-copy-${++copies}`);
    await cp(ws.logsDir, logs, { recursive: true });
    return [logs, join(logs, "sop", "quick")];
  };

  beforeAll(async () => {
    ws = await Workspace.create();
    prefix = testPrefix();
    await ws.addSop("quick", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 10`, steps("**Say**\n```sh\necho hi\n```"));
    for (let i = 0; i < 6; i++) expect((await sop(["run", "quick"], opts())).code).toBe(0);
    const verify = await sop(["audit", "verify"], opts());
    expect(verify.stdout).toContain("6 sealed records of 1 SOPs checked against the chain heads in Redis");
    expect(verify.code).toBe(0);
  });
  afterAll(async () => {
    await ws.remove();
    await deleteKeys(url!, prefix);
  });

  it("names the newest record when it was deleted", async () => {
    const [logs, dir] = await copy();
    const [last] = await newest(dir, 1);
    await rm(join(dir, last!));
    const verify = await sop(["audit", "verify", logs], opts());
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain("truncated: records after seq 5 of quick are missing");
  });

  it("names the cut when the 5 newest were deleted and the new last one rehashed to look whole", async () => {
    const [logs, dir] = await copy();
    for (const file of await newest(dir, 5)) await rm(join(dir, file));
    const [first] = await readdir(dir);
    const record = JSON.parse(await readFile(join(dir, first!), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, first!), JSON.stringify({ ...record, status: "success", hash: hashRecord({ ...record, status: "success" }) }));
    const verify = await sop(["audit", "verify", logs], opts());
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain("truncated: records after seq 1 of quick are missing");
  });
});
