/** The Slack adapter in-process, on a bare fastify server, talking to a FakeSlack. */
import Fastify, { type FastifyInstance } from "fastify";
import { SlackAdapter } from "../../../adapters/slack/index.ts";
import type { Logger } from "../../../src/app/logger.ts";
import type { SopRunner } from "../../../src/app/sop-runner.ts";
import { FakeSlack, SlackUser, type Person } from "../../helpers/fake-slack.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";

export const SIGNING_SECRET = "test-signing-secret";
export const CHANNEL = "C0OPS";
export const alice: Person = { id: "UALICE", channel: CHANNEL };
export const bob: Person = { id: "UBOB", channel: CHANNEL };
export const carol: Person = { id: "UCAROL", channel: CHANNEL };
export const mallory: Person = { id: "UMALLORY", channel: CHANNEL };

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: object;
}

export function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: LogLine["level"]) => (fields: object, msg?: string) => lines.push({ level, msg: msg ?? "", fields });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export interface SlackSetup {
  ws: Workspace;
  runner: SopRunner;
  fake: FakeSlack;
  http: FastifyInstance;
  adapter: SlackAdapter;
  user: SlackUser;
  eventsUrl: string;
  logs: LogLine[];
  close(): Promise<void>;
}

export interface SetupOptions {
  sops: (ws: Workspace) => Promise<void>;
  socket?: boolean;
  admins?: string[];
  /** Runs before the adapter starts: make the fake fail, add user groups. */
  prepare?: (fake: FakeSlack) => void;
  /** Wait for `connected` (default true). */
  connected?: boolean;
}

export async function startSlack(o: SetupOptions): Promise<SlackSetup> {
  const ws = await Workspace.create();
  await o.sops(ws);
  const runner = await ws.runner();
  const fake = await FakeSlack.start();
  o.prepare?.(fake);
  const http = Fastify();
  const logs: LogLine[] = [];
  const adapter = new SlackAdapter({
    runner, http, log: recordingLogger(logs), admins: o.admins ?? [],
    context: { runUrl: (id) => `http://bot.test/runs/${id}` },
    config: {
      botToken: "xoxb-test", apiUrl: fake.apiUrl, channel: CHANNEL,
      ...(o.socket ? { appToken: "xapp-test" } : { signingSecret: SIGNING_SECRET }),
    },
    backoff: { firstMs: 30, maxMs: 200 },
  });
  await http.listen({ port: 0, host: "127.0.0.1" });
  const address = http.server.address();
  const eventsUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/slack/events`;
  await adapter.start();
  if (o.connected ?? true) await until("Slack connected", () => adapter.health().connection === "connected");
  const user = new SlackUser(fake, o.socket ? "socket" : { eventsUrl, signingSecret: SIGNING_SECRET });
  return {
    ws, runner, fake, http, adapter, user, eventsUrl, logs,
    async close() {
      await adapter.close();
      await http.close();
      await runner.close();
      await fake.close();
      await ws.remove();
    },
  };
}
