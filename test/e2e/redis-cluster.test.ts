/**
 * The bot unchanged on a Redis Cluster (three masters, no replicas, started by the test): a run
 * waits at an approval gate, another process approves it, it ends sealed, `sop audit verify`
 * checks the files against the chain head in the cluster, and every key of the deployment sits
 * in one hash slot, so no script or pipeline ever spans two.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { createSopRunner } from "../../src/compose/open-deployment.ts";
import type { RunEvent } from "../../src/core/run/effects.ts";
import { sop, spawnSop } from "../helpers/cli.ts";
import { hasRedisCluster, LocalRedisCluster } from "../helpers/local-redis-cluster.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

describe.skipIf(!hasRedisCluster)("the bot on a Redis Cluster (needs redis-server and redis-cli on PATH)", () => {
  let cluster: LocalRedisCluster;
  let ws: Workspace;
  let bot: SopRunner | undefined;
  let worker: ChildProcess | undefined;
  let workerErr = "";
  let url: string;

  // No SOP_REDIS_PREFIX: the default deployment, as a user who only set REDIS_URL has it.
  // No server at SOP_SERVER_URL, so the CLI works in-process on the cluster.
  const env = (extra: Record<string, string> = {}) => ws.env({
    REDIS_URL: url, SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir, SOP_SERVER_URL: "http://127.0.0.1:1", ...extra,
  });

  beforeAll(async () => {
    cluster = await LocalRedisCluster.start();
    // The deployment's keys all hash to the slot of {sop}; the URL names another node.
    url = cluster.urlAwayFrom("{sop}");
    ws = await Workspace.create();
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"`, steps(
      "**Prepare**\n```sh\necho prepared\n```",
      "**Deploy** [requires_approval: true]\n```sh\necho deployed\n```",
    ));
  }, 60_000);
  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
    await bot?.close();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
    await cluster?.stop();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
    await ws?.remove();
  });

  it("runs an SOP to its gate in one process, takes the approval in another, seals it, and verifies the audit against the cluster", async () => {
    // A queue worker of its own, writing its audit files elsewhere.
    worker = spawnSop(["worker"], { cwd: ws.root, env: env({ LOGS_DIR: `${ws.root}/worker-logs` }) });
    worker.stderr!.on("data", (d: Buffer) => (workerErr += d.toString()));
    // This process is a node without a worker (like `sop serve` with SOP_WORKER=0): it keeps LOGS_DIR from the events it hears.
    bot = await createSopRunner({ sopsDir: ws.sopsDir, logsDir: ws.logsDir, redisUrl: url, env: env(), worker: false });
    const heard: RunEvent[] = [];
    bot.events.subscribe((e) => heard.push(e));

    const run = await bot.execute("gated", { wait: false });
    const waiting = await until("the run to wait at its gate", async () => {
      const r = await bot!.record(run.run_id);
      return r.status === "awaiting_approval" ? r : undefined;
    }, 60_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the worker said: ${workerErr}`);
    });
    expect(waiting.steps.map((s) => s.status)).toEqual(["success", "awaiting_approval"]);

    const approve = await sop(["approve", "gated", run.run_id, "--comment", "ship it"], { cwd: ws.root, env: env({ LOGS_DIR: `${ws.root}/cli-logs` }) });
    // Its lines depend on which process ran the step (this CLI or the worker); its exit code is the run's end: 0, success.
    expect(approve.stderr).not.toMatch(/error|CROSSSLOT|MOVED/i);
    expect(approve.code).toBe(0);

    const record = await until("the run to end", async () => {
      const r = await bot!.record(run.run_id);
      return r.status === "success" ? r : undefined;
    }, 30_000);
    expect(record.steps.map((s) => s.output)).toEqual(["prepared\n", "deployed\n"]);
    expect(record.seq).toBe(1);
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    // Published by the other processes, heard here over the cluster's pub/sub.
    expect(heard.filter((e) => e.runId === run.run_id).map((e) => e.type)).toEqual(expect.arrayContaining(["run_started", "approval_requested", "approval_decided", "run_finished"]));

    const [file] = await until("the audit file of the sealed run", async () => {
      const files = await ws.auditFiles("gated").catch(() => []);
      return files.length === 1 && files[0]!.hash !== undefined ? files : undefined;
    }, 30_000);
    expect(file).toMatchObject({ run_id: run.run_id, status: "success", seq: 1, hash: record.hash });
    const verify = await sop(["audit", "verify", ws.logsDir], { cwd: ws.root, env: env() });
    expect(verify.stdout).toContain("1 sealed records of 1 SOPs checked against the chain heads in Redis");
    expect(verify.code).toBe(0);

    const keys = cluster.keys();
    expect(keys.map((k) => k.key)).toEqual(expect.arrayContaining([`{sop}:run:${run.run_id}`, "{sop}:chains"]));
    expect(keys.some((k) => k.key.startsWith("{sop}:jobs:"))).toBe(true);
    const slot = Number(cluster.cli(cluster.ports[0]!, "CLUSTER", "KEYSLOT", "{sop}").trim());
    expect(keys.filter((k) => k.slot !== slot)).toEqual([]);
  }, 120_000);
});
