import { createSopRunner, type SopRunner } from "../app/sop-runner.ts";
import { stderrLogger } from "../app/logger.ts";
import type { Config } from "../main/config.ts";
import type { CliContext } from "./cli-context.ts";

/** The CLI working in-process: a full node of the local driver for the length of one command. */
export async function withLocalRunner<T>(ctx: CliContext, config: Config, owner: string, fn: (runner: SopRunner) => Promise<T>): Promise<T> {
  const runner = await createSopRunner({
    sopsDir: config.sopsDir,
    logsDir: config.logsDir,
    dataDir: config.dataDir,
    admins: config.admins,
    env: config.env,
    owner,
    log: stderrLogger((l) => ctx.err(l), config.logLevel === "debug"),
  });
  try {
    return await fn(runner);
  } finally {
    await runner.close();
  }
}
