/**
 * `sop worker`: a queue worker only (Redis). It takes "advance run X" jobs from BullMQ and runs
 * their commands; audit files are the serve process's (SOP_AUDIT_FILES=1 to write them here too).
 * SIGTERM: stop taking jobs, let running steps finish for up to SOP_SHUTDOWN_GRACE_SECS, exit;
 * what is left is redelivered to other workers once its lock expires.
 */
import { createSopRunner } from "../app/sop-runner.ts";
import { stderrLogger } from "../app/logger.ts";
import { readConfig } from "./config.ts";

export async function runWorker(env: Readonly<Record<string, string | undefined>>, write: (line: string) => void): Promise<number> {
  const config = readConfig(env);
  if (!config.redisUrl) {
    write("sop worker needs REDIS_URL: without Redis there is one process, and `sop serve` (or the CLI) runs the work itself");
    return 2;
  }
  const graceSecs = Number(env["SOP_SHUTDOWN_GRACE_SECS"] ?? 30);
  const log = stderrLogger(write, config.logLevel === "debug");
  const runner = await createSopRunner({
    sopsDir: config.sopsDir, logsDir: config.logsDir, admins: config.admins, env, log, owner: "sop worker",
    // The serve process keeps the audit files from the events it hears; a worker on the same
    // machine writing them too would only double the disk work (SOP_AUDIT_FILES=1 to opt in).
    auditFiles: env["SOP_AUDIT_FILES"] === "1",
  });
  write(`sop worker: ${runner.catalog.list().length} SOPs, queue on ${redactPassword(config.redisUrl)} (prefix ${config.redis.prefix}), concurrency ${config.workerConcurrency}`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  write(`sop worker: ${signal}; finishing running steps (up to ${graceSecs} s)`);
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceSecs * 1000).unref());
  const outcome = await Promise.race([runner.close().then(() => "closed" as const), timer]);
  if (outcome === "timeout") write("sop worker: grace period over; leaving what still runs to the other workers");
  return 0;
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
