/**
 * A throwaway Redis Cluster of a test's own: three masters without replicas on free ports in a
 * temporary folder, joined by `redis-cli --cluster create`. Needs redis-server and redis-cli on
 * PATH (`hasRedisCluster`; REQUIRE_REDIS=1 makes their absence a failure).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { until } from "./until.ts";

export const hasRedisCluster = ["redis-server", "redis-cli"].every((bin) => spawnSync(bin, ["--version"]).status === 0);
if (!hasRedisCluster && process.env["REQUIRE_REDIS"] === "1") throw new Error("REQUIRE_REDIS=1 but redis-server or redis-cli is not on PATH");

export class LocalRedisCluster {
  private readonly children: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), "sop-redis-cluster-"));
  /** The servers die with the test process, also when it never reaches `stop()`. */
  private readonly killAll = (): void => {
    for (const child of this.children) child.kill("SIGKILL");
  };

  private constructor(readonly ports: readonly number[]) {}

  /** Started, its slots all assigned, and every node saying `cluster_state:ok`. */
  static async start(masters = 3): Promise<LocalRedisCluster> {
    const ports: number[] = [];
    // The bus port is set explicitly: the default (port + 10000) may be past 65535 or taken.
    const busPorts: number[] = [];
    while (ports.length < masters) {
      const [port, bus] = [await freePort(), await freePort()];
      if (port !== bus && !ports.includes(port) && !ports.includes(bus) && !busPorts.includes(port) && !busPorts.includes(bus)) {
        ports.push(port);
        busPorts.push(bus);
      }
    }
    const cluster = new LocalRedisCluster(ports);
    try {
      await cluster.up(busPorts);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * The URL of a node that does not serve `key`'s slot, as a user would set REDIS_URL: a client
   * that gets there must find the others and follow the MOVED redirections.
   */
  urlAwayFrom(key: string): string {
    const slot = Number(this.cli(this.ports[0]!, "CLUSTER", "KEYSLOT", key).trim());
    const serving = this.cli(this.ports[0]!, "CLUSTER", "NODES").split("\n").flatMap((line) => {
      const [, address, , , , , , , ...ranges] = line.split(" ");
      const holds = ranges.some((range) => {
        const [from, to = from] = range.split("-").map(Number);
        return from !== undefined && to !== undefined && slot >= from && slot <= to;
      });
      return holds && address !== undefined ? [Number(/:(\d+)@/.exec(address)?.[1])] : [];
    });
    const away = this.ports.find((port) => !serving.includes(port));
    if (serving.length !== 1 || away === undefined) throw new Error(`cannot tell which node serves slot ${slot} of ${key}`);
    return `redis://127.0.0.1:${away}`;
  }

  /** `redis-cli -p <port> …` on one node; its stdout. */
  cli(port: number, ...args: string[]): string {
    const result = spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`redis-cli -p ${port} ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** Every key on every node, with the hash slot of each. */
  keys(): { key: string; slot: number; port: number }[] {
    return this.ports.flatMap((port) => this.cli(port, "--scan").split("\n").filter(Boolean).map((key) => ({
      key, port, slot: Number(this.cli(port, "CLUSTER", "KEYSLOT", key).trim()),
    })));
  }

  async stop(): Promise<void> {
    process.off("exit", this.killAll);
    await Promise.all(this.children.splice(0).map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      return exited;
    }));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async up(busPorts: readonly number[]): Promise<void> {
    process.once("exit", this.killAll);
    this.ports.forEach((port, i) => {
      const child = spawn("redis-server", [
        "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port", String(busPorts[i]),
        "--cluster-config-file", join(this.dir, `nodes-${port}.conf`), "--save", "", "--appendonly", "no", "--dir", this.dir,
      ], { stdio: "ignore" });
      this.children.push(child);
    });
    for (const port of this.ports) {
      await until(`redis-server on ${port} to answer`, () => (spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout as Buffer | null)?.toString().includes("PONG"), 10_000);
    }
    const create = spawnSync("redis-cli", ["--cluster", "create", ...this.ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8" });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    await until("every node to say cluster_state:ok", () => this.ports.every((port) => this.cli(port, "CLUSTER", "INFO").includes("cluster_state:ok")), 20_000);
  }
}
