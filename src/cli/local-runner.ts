import { setTimeout as sleep } from "node:timers/promises";
import { type SopRunner } from "../app/sop-runner.ts";
import { createSopRunner } from "../compose/open-deployment.ts";
import { stderrLogger } from "../app/logger.ts";
import type { Config } from "../config/config.ts";
import { EXIT, type CliContext } from "./cli-context.ts";

/** How long a command waits for another local command to let go of DATA_DIR before it gives up. */
const LOCK_WAIT_MS = 10_000;
const LOCK_LOOK_EVERY_MS = 200;

export interface LocalRunnerOptions {
  /** Only look: no lock on DATA_DIR, no worker, nothing recovered or moved on (`sop status`). */
  readOnly?: boolean;
}

/**
 * The CLI working in-process: a full node of the local driver for the length of one command
 * (or, read-only, a look at DATA_DIR that never waits for whoever holds it). Two local commands
 * that change runs take turns: the second waits a little for the first, then says who holds
 * DATA_DIR and how to share it.
 */
export async function withLocalRunner(
  ctx: CliContext, config: Config, owner: string, fn: (runner: SopRunner) => Promise<number>, opts: LocalRunnerOptions = {},
): Promise<number> {
  const open = () => createSopRunner({
    config,
    env: config.env,
    owner,
    ...(opts.readOnly ? { readOnly: true } : {}),
    log: stderrLogger((l) => ctx.err(l), config.logLevel === "debug"),
  });
  let runner: SopRunner | undefined;
  for (let waited = 0; runner === undefined; waited += LOCK_LOOK_EVERY_MS) {
    try {
      runner = await open();
    } catch (err) {
      if (!isLocked(err)) throw err;
      if (waited >= LOCK_WAIT_MS) {
        ctx.err(ctx.color.red(`${err.message}. Local sop commands take turns on DATA_DIR; run this again when that one is done, or start \`sop serve\` so that every command goes through its API.`));
        return EXIT.refused;
      }
      if (waited === 0) ctx.err(`waiting for DATA_DIR: another sop command (${err.owner}, pid ${err.pid}) is using it…`);
      await sleep(LOCK_LOOK_EVERY_MS);
    }
  }
  try {
    return await fn(runner);
  } finally {
    await runner.close();
  }
}

interface LockedError extends Error {
  owner: string;
  pid: number;
}

// By its code: the CLI knows the error's shape, not the driver that raised it.
function isLocked(err: unknown): err is LockedError {
  return err instanceof Error && (err as Error & { code?: unknown }).code === "DATA_DIR_LOCKED";
}
