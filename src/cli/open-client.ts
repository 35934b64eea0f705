/**
 * The SopClient a command works through: the running server's API when one answers, else this
 * process. Each way is imported only when taken, so the HTTP way never loads the drivers
 * (BullMQ, ioredis) and the in-process way never loads the HTTP client.
 */
import type { Config } from "../config/config.ts";
import type { CliContext } from "./cli-context.ts";
import type { ServerClient } from "./http-client.ts";
import type { SopClient } from "./sop-client.ts";

/**
 * What a command needs in-process: only the SOP folder (`list`, `plan`), a look at the runs that
 * changes nothing and waits for no one (`status`), or a full node that carries runs on.
 */
export type LocalNeed = "folder" | "look" | "node";

export async function withClient(
  ctx: CliContext, server: ServerClient | undefined, config: Config, command: string, need: LocalNeed, fn: (client: SopClient) => Promise<number>,
): Promise<number> {
  if (server) {
    const { HttpSopClient } = await import("./http-sop-client.ts");
    return fn(new HttpSopClient(server));
  }
  const { LocalSopClient } = await import("./local-sop-client.ts");
  if (need === "folder") return fn(new LocalSopClient({ sopsDir: config.sopsDir }));
  const { withLocalRunner } = await import("./local-runner.ts");
  if (need === "node") return withLocalRunner(ctx, config, `sop ${command}`, (runner) => fn(new LocalSopClient({ sopsDir: config.sopsDir, runner })));
  const { dataDirInUse } = await import("../compose/store-readers.ts");
  // Read-only: with no process holding DATA_DIR (and no Redis), whatever says "running" was interrupted.
  const idle = !config.redisUrl && !(await dataDirInUse(config.dataDir));
  return withLocalRunner(ctx, config, `sop ${command}`, (runner) => fn(new LocalSopClient({ sopsDir: config.sopsDir, runner, idle })), { readOnly: true });
}
