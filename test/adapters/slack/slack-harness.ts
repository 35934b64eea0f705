/** The Slack adapter in-process, on a bare fastify server, talking to a FakeSlack. */
import Fastify, { type FastifyInstance } from "fastify";
import { SlackAdapter } from "../../../adapters/slack/index.ts";
import type { Logger } from "../../../src/app/logger.ts";
import type { SopRunner } from "../../../src/app/sop-runner.ts";
import type { Deployment } from "../../../src/compose/open-deployment.ts";
import type { MessageLedger } from "../../../src/ports/message-ledger.ts";
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

export interface SlackSetup extends SlackBot {
  ws: Workspace;
  runner: SopRunner;
  /** Where the bot records the messages and requests it handled. */
  ledger: MessageLedger;
  fake: FakeSlack;
  user: SlackUser;
}

export interface SetupOptions extends BotOptions {
  sops: (ws: Workspace) => Promise<void>;
  /** Runs before the adapter starts: make the fake fail, add user groups. */
  prepare?: (fake: FakeSlack) => void;
}

export async function startSlack(o: SetupOptions): Promise<SlackSetup> {
  const ws = await Workspace.create();
  await o.sops(ws);
  const deployment = await ws.deployment(o.admins ? { admins: o.admins } : {});
  const { runner } = deployment;
  const fake = await FakeSlack.start();
  o.prepare?.(fake);
  const bot = await startBot(deployment, fake, o);
  const user = new SlackUser(fake, o.socket ? "socket" : { eventsUrl: bot.eventsUrl, signingSecret: SIGNING_SECRET });
  return {
    ...bot, ws, runner, ledger: deployment.ledger, fake, user,
    async close() {
      await bot.close();
      await runner.close();
      await fake.close();
      await ws.remove();
    },
  };
}

/** One bot process's Slack side: the adapter over `runner`, on its own server, talking to `fake`. */
export interface SlackBot {
  http: FastifyInstance;
  adapter: SlackAdapter;
  eventsUrl: string;
  logs: LogLine[];
  /** Closes the adapter and its server; the runner and the fake are the caller's. */
  close(): Promise<void>;
}

export interface BotOptions {
  socket?: boolean;
  /** SOP_ADMINS of the runner `startSlack` opens. */
  admins?: string[];
  /** Wait for `connected` (default true). */
  connected?: boolean;
  /** The adapter's clock (default the system's). */
  now?: () => number;
}

export async function startBot({ runner, ledger }: Deployment, fake: FakeSlack, o: BotOptions = {}): Promise<SlackBot> {
  const http = Fastify();
  const logs: LogLine[] = [];
  const adapter = new SlackAdapter({
    runner, ledger, http, log: recordingLogger(logs),
    context: { runUrl: (id) => `http://bot.test/runs/${id}` },
    config: {
      botToken: "xoxb-test", apiUrl: fake.apiUrl, channel: CHANNEL,
      ...(o.socket ? { appToken: "xapp-test" } : { signingSecret: SIGNING_SECRET }),
    },
    backoff: { firstMs: 30, maxMs: 200 },
    ...(o.now ? { now: o.now } : {}),
  });
  await http.listen({ port: 0, host: "127.0.0.1" });
  const address = http.server.address();
  const eventsUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/slack/events`;
  await adapter.start();
  if (o.connected ?? true) await until("Slack connected", () => adapter.health().connection === "connected");
  return {
    http, adapter, eventsUrl, logs,
    async close() {
      await adapter.close();
      await http.close();
    },
  };
}
