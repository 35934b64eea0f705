/**
 * The web UI as `sop serve` wires it, LOGS_DIR included (the audit page checks the SOP's chain of
 * files there), over a real runner in a temporary workspace. Sign-in and forms: helpers/web-app.ts.
 */
import Fastify from "fastify";
import { registerWebUi } from "../../src/http/web/index.ts";
import { TOKENS, type WebFixture } from "../helpers/web-app.ts";
import { Workspace } from "../helpers/workspace.ts";

export async function webWithLogs(setup: (ws: Workspace) => Promise<void>, opts: { admins?: string[] } = {}): Promise<WebFixture> {
  const ws = await Workspace.create();
  await setup(ws);
  const runner = await ws.runner(opts.admins ? { admins: opts.admins } : {});
  const app = Fastify();
  const logs: WebFixture["logs"] = [];
  const entry = (level: string) => (obj: object, msg?: string) => { logs.push({ level, msg, obj }); };
  await registerWebUi(app, { runner, tokens: TOKENS, log: { info: entry("info"), warn: entry("warn"), error: entry("error") }, logsDir: ws.logsDir });
  await app.ready();
  return {
    ws, runner, app, logs,
    advance: () => { throw new Error("this fixture's sessions use the real clock"); },
    close: async () => {
      await app.close();
      await runner.close();
      await ws.remove();
    },
  };
}
