/** The gateway connection through drops, refusals and outages: the bot never goes down, and /healthz says how it is. */
import { afterEach, beforeEach, expect, it } from "vitest";
import { FakeDiscord, option, slashCommand } from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";
import { addShip, DiscordBot, PEOPLE } from "./discord-bot.ts";

let ws: Workspace;
let bot: DiscordBot | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  await addShip(ws);
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await ws.remove();
});

const identifies = (fake: FakeDiscord) => fake.gatewayFrames.filter((f) => f.op === 2);

it("resumes when the gateway drops: health goes connecting then connected, and a command sent meanwhile is answered", async () => {
  bot = await DiscordBot.start(ws);
  const { fake, adapter } = bot;
  fake.dropGateway(4000);
  await until("health to say connecting", () => adapter.health().connection === "connecting");
  const meanwhile = fake.interact(slashCommand("sop", [], PEOPLE.alice, "list"));
  await until("health to say connected", () => adapter.health().connection === "connected");
  expect(fake.gatewayFrames.filter((f) => f.op === 6)).toHaveLength(1);
  expect(identifies(fake)).toHaveLength(1);
  await until("the command replayed on resume to be answered", () => fake.answersTo(meanwhile).length > 0);
  expect(fake.answerText(meanwhile)).toContain("`ship` 0.1.0");

  const after = fake.interact(slashCommand("sop", [option("name", "ship")], PEOPLE.alice, "plan"));
  await until("a command after the resume to be answered", () => fake.answersTo(after).length > 0);
  expect(fake.answerText(after)).toContain("Plan of ship");
});

it("a session Discord ends for good starts over with a new login, and is connected again", async () => {
  bot = await DiscordBot.start(ws);
  const { fake, adapter } = bot;
  fake.dropGateway(4004);
  await until("a new login", () => identifies(fake).length === 2);
  await until("health to say connected", () => adapter.health().connection === "connected");
  expect(bot.log.has(/^Discord: not connected, will retry: gateway closed the session \(4004: authentication failed: check DISCORD_TOKEN\)$/)).toBe(true);
  expect(bot.log.entries.filter((e) => /^Discord: connected as sop-runner/.test(e.msg))).toHaveLength(2);
  const i = fake.interact(slashCommand("sop", [], PEOPLE.alice, "help"));
  await until("the answer", () => fake.answersTo(i).length > 0);
});

it("a refused token at login does not stop the bot: health says why, and it connects once Discord takes the token", async () => {
  const fake = await FakeDiscord.start();
  fake.gatewayBotStatus = 401;
  bot = await DiscordBot.start(ws, { connected: false, fake });
  expect(bot.adapter.health().connection).toBe("error: the bot token was refused (401): check DISCORD_TOKEN");
  await until("a few more attempts", () => fake.requests.filter((r) => r.path === "/gateway/bot").length >= 3);
  expect(bot.adapter.health().connection).toBe("error: the bot token was refused (401): check DISCORD_TOKEN");
  expect(bot.log.entries.filter((e) => e.level === "warn" && /token was refused/.test(e.msg))).toHaveLength(1);
  // Notifications do not wait for the gateway.
  await bot.runner.execute("ship", { actor: "discord:1" });
  await bot.settled();
  expect(fake.find("Approval needed: ship")).toBeDefined();

  fake.gatewayBotStatus = undefined;
  await until("the bot to connect", () => bot!.adapter.health().connection === "connected");
  expect(identifies(fake)).toHaveLength(1);
  expect(bot.log.has(/^Discord: connected as sop-runner/)).toBe(true);
});

it("an unreachable Discord leaves the bot up, with the cause in its health", async () => {
  const gone = await FakeDiscord.start();
  const api = gone.api;
  await gone.close();
  bot = await DiscordBot.start(ws, { connected: false, api });
  expect(bot.adapter.health().connection).toBe(`error: cannot reach Discord at ${api} (ECONNREFUSED)`);
  const run = await bot.runner.execute("ship", { actor: "discord:1" });
  expect(run.status).toBe("awaiting_approval");
  await bot.settled();
  expect(bot.adapter.health().notifications.failing).toMatch(/^Discord: cannot post in \d+: ECONNREFUSED$/);
});

it("without the Message Content intent it reconnects without it, says message triggers are off, and commands still work", async () => {
  bot = await DiscordBot.start(ws, { fake: { messageContentAllowed: false } });
  const [first, second] = identifies(bot.fake);
  expect(first!.intents! & (1 << 15)).toBe(1 << 15);
  expect(second!.intents! & (1 << 15)).toBe(0);
  expect(bot.log.entries.filter((e) => /message triggers are off/.test(e.msg))).toHaveLength(1);
  expect(bot.log.has(/Enable it in the Developer Portal/)).toBe(true);

  const i = bot.fake.interact(slashCommand("sop", [], PEOPLE.alice, "help"));
  await until("the answer", () => bot!.fake.answersTo(i).length > 0);
  expect(bot.fake.answerText(i)).toContain("sop-runner commands");
});
