/**
 * A redis-server of a test's own on a free port, which the test may stop and start again (an
 * outage, a restart with AOF). Needs redis-server on PATH (`REQUIRE_REDIS=1` makes its absence a
 * failure, as for the shared Redis).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { until } from "./until.ts";

export { freePort };

export const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;
if (!hasRedisServer && process.env["REQUIRE_REDIS"] === "1") throw new Error("REQUIRE_REDIS=1 but redis-server is not on PATH");

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), "sop-private-redis-"));

  private constructor(readonly port: number, private readonly appendOnly: boolean) {}

  /** Started and answering PING. With `appendOnly`, what it held survives `restart()`. */
  static async start(opts: { appendOnly?: boolean } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), opts.appendOnly ?? false);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Stops it at once (SIGKILL: an outage, not a shutdown); `up()` brings it back. */
  async down(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  async up(): Promise<void> {
    const aof = this.appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    this.child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...aof, "--dir", this.dir], { stdio: "ignore" });
    await until("the private redis-server to answer", () => (spawnSync("redis-cli", ["-p", String(this.port), "ping"]).stdout as Buffer | null)?.toString().includes("PONG"), 10_000);
  }

  async restart(): Promise<void> {
    await this.down();
    await this.up();
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
