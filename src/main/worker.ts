/**
 * `sop worker`: a queue worker only (Redis). It takes "advance run X" jobs from BullMQ and runs
 * their commands; audit files are the serve process's (SOP_AUDIT_FILES=1 to write them here too).
 * SIGTERM or SIGINT: stop taking jobs, let running steps finish for up to SOP_SHUTDOWN_GRACE_SECS,
 * then stop what still runs and exit — also while Redis is down, when closing cannot finish. What
 * was cut off is taken over by another worker once this one's claim on the run lapses.
 */
import { createSopRunner } from "../compose/open-deployment.ts";
import { stderrLogger } from "../app/logger.ts";
import { keyPrefix } from "../drivers/redis/redis-keys.ts";
import { ShellExecutor } from "../exec/shell-executor.ts";
import { readConfig } from "../config/config.ts";
import { InterruptibleExecutor } from "./interruptible-executor.ts";

/** After the grace, what is left (a connection retrying a Redis that is down) may hold the process this long. */
const EXIT_AFTER_MS = 2000;

export async function runWorker(env: Readonly<Record<string, string | undefined>>, write: (line: string) => void): Promise<number> {
  const config = readConfig(env);
  if (!config.redisUrl) {
    write("sop worker needs REDIS_URL: without Redis there is one process, and `sop serve` (or the CLI) runs the work itself");
    return 2;
  }
  const graceSecs = config.shutdownGraceSecs;
  const log = stderrLogger(write, config.logLevel === "debug");
  const executor = new InterruptibleExecutor(new ShellExecutor());
  const runner = await createSopRunner({
    config, env, log, owner: "sop worker", executor,
    // The serve process keeps the audit files from the events it hears; a worker on the same
    // machine writing them too would only double the disk work (SOP_AUDIT_FILES=1 to opt in).
    auditFiles: env["SOP_AUDIT_FILES"] === "1",
    // Any process may prune; the store removes only runs whose audit files `sop serve` marked written.
    retention: true,
  });
  write(`sop worker: ${runner.sops().length} SOPs, queue on ${redactPassword(config.redisUrl)} (prefix ${config.redis.prefix}, keys under ${keyPrefix(config.redis.prefix)}:), concurrency ${config.workerConcurrency}`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  write(`sop worker: ${signal}; finishing running steps (up to ${graceSecs} s)`);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), graceSecs * 1000)));
  const outcome = await Promise.race([runner.close().then(() => "closed" as const), graceOver]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    const steps = executor.size;
    // The commands stop here; their runs stay "running" in Redis and are taken over elsewhere.
    await executor.interrupt("abandon");
    write(`sop worker: grace period over; ${steps ? `stopped ${steps} running step(s), which other workers take over` : "closing could not finish (is Redis down?)"}; exiting`);
    // Closing may wait forever for a Redis that is down; nothing of ours is left to wait for.
    setTimeout(() => process.exit(0), EXIT_AFTER_MS).unref();
  }
  return 0;
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
