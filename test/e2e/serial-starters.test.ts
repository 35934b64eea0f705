/**
 * Six `sop run` of a max_concurrent = 1 SOP started at once on Redis, each a CLI working
 * in-process that closes as soon as its own run ends: every run starts in turn and ends.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { sop } from "../helpers/cli.ts";
import { deleteKeys, redisUrlForTests, testPrefix } from "../helpers/redis.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

const url = await redisUrlForTests();

describe.skipIf(url === undefined)("starters of a max_concurrent = 1 SOP on Redis (see the REDIS SUITES SKIPPED line when skipped)", () => {
  let ws: Workspace;
  let prefix: string;
  const prefixes: string[] = [];

  beforeEach(async () => {
    ws = await Workspace.create();
    prefix = testPrefix();
    prefixes.push(prefix);
  });
  afterEach(() => ws.remove());
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url!, p);
  });

  it("runs all six, one at a time, and leaves none queued", async () => {
    await ws.addSop("serial", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 1`, steps("**Work**\n```sh\nsleep 0.5\n```"));
    // No server answers there: each CLI works in-process, as a node of the Redis deployment.
    const env = ws.env({ REDIS_URL: url!, SOP_REDIS_PREFIX: prefix, SOP_SERVER_URL: "http://127.0.0.1:1", SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir });
    const results = await Promise.all(Array.from({ length: 6 }, () => sop(["run", "serial", "--json"], { cwd: ws.root, env })));
    expect(results.map((r) => r.code)).toEqual(Array(6).fill(0));
    const records = results.map((r) => JSON.parse(r.stdout) as { started_at: string; completed_at: string });
    const spans = records.map((r) => [Date.parse(r.started_at), Date.parse(r.completed_at)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  }, 90_000);
});
