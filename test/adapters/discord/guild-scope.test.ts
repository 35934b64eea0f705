/** Which servers the bot answers in: DISCORD_GUILD_ID's alone when it is set, never direct messages. */
import { afterEach, beforeEach, expect, it } from "vitest";
import { NOT_IN_DMS, OTHER_SERVER } from "../../../adapters/discord/guild-scope.ts";
import {
  autocomplete, buttonClick, buttonsOf, DISCORD, inDirectMessage, inOtherGuild, messageCreate, option, slashCommand,
  type FakeDiscord,
} from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";
import { actor, addShip, DiscordBot, PEOPLE } from "./discord-bot.ts";

let ws: Workspace;
let bot: DiscordBot | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("deploy-production");
  await addShip(ws);
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await ws.remove();
});

const UNSCOPED = /DISCORD_GUILD_ID is not set: any server the bot is invited to can use it/;

/** The interaction's whole answer: one private reply, nothing deferred, nothing edited. */
async function refusedPrivately(fake: FakeDiscord, i: { token: string }, why: string): Promise<void> {
  await until("the answer", () => fake.answersTo(i).length > 0);
  expect(fake.answersTo(i)).toEqual([{ kind: "callback", type: 4, data: expect.objectContaining({ content: why, flags: 64 }) as unknown }]);
}

it("with DISCORD_GUILD_ID, a message in another server starts nothing and gets no reply", async () => {
  bot = await DiscordBot.start(ws, { fake: { otherGuild: true } });
  bot.fake.dispatch("MESSAGE_CREATE", inOtherGuild(messageCreate("deploy:6.6.6", PEOPLE.alice)));
  const marker = messageCreate("deploy:1.0.0", PEOPLE.alice);
  bot.fake.dispatch("MESSAGE_CREATE", marker);
  // Events are handled in order: once the last one is answered, the other was seen.
  await until("the reply in our server", () => bot!.fake.messages.find((m) => m.message_reference?.message_id === marker["id"]));
  await bot.settled();
  expect(bot.fake.messages.filter((m) => m.channel_id === DISCORD.other.channel)).toEqual([]);
  expect((await bot.runner.runs({ sop: "deploy-production" })).map((r) => r.inputVars["version"])).toEqual(["1.0.0"]);
  expect(bot.log.has(new RegExp(`ignoring server ${DISCORD.other.guild}: DISCORD_GUILD_ID is ${DISCORD.guild}`))).toBe(true);
  expect(bot.log.has(UNSCOPED)).toBe(false);
});

it("with DISCORD_GUILD_ID, commands, choices and clicks from another server are refused privately and record nothing", async () => {
  bot = await DiscordBot.start(ws, { fake: { otherGuild: true } });
  const { fake, runner } = bot;
  const run = await runner.execute("ship", { actor: actor(PEOPLE.alice) });
  await bot.settled();
  const request = fake.find("Approval needed: ship")!;

  // Bob holds the approvers role, and even so.
  const approve = fake.interact(inOtherGuild(slashCommand("approve", [option("name", "ship")], PEOPLE.bob)));
  await refusedPrivately(fake, approve, OTHER_SERVER);
  const start = fake.interact(inOtherGuild(slashCommand("sop", [option("name", "ship")], PEOPLE.alice, "run")));
  await refusedPrivately(fake, start, OTHER_SERVER);
  const click = fake.interact(inOtherGuild(buttonClick(buttonsOf(request)["Approve"]!, PEOPLE.bob, fake.messageObject(request))));
  await refusedPrivately(fake, click, OTHER_SERVER);
  const deny = fake.interact(inOtherGuild(buttonClick(buttonsOf(request)["Deny"]!, PEOPLE.bob, fake.messageObject(request))));
  await refusedPrivately(fake, deny, OTHER_SERVER);
  const typing = fake.interact(inOtherGuild(autocomplete("approve", [option("name", "ship"), option("run", "", true)], PEOPLE.bob)));
  await until("the choices", () => fake.answersTo(typing).length > 0);
  expect(fake.answersTo(typing)).toEqual([{ kind: "callback", type: 8, data: { choices: [] } }]);

  const record = await runner.record(run.run_id);
  expect(record.status).toBe("awaiting_approval");
  expect(record.approvals[0]!.refused).toEqual([]);
  expect((await runner.runs({ sop: "ship" })).map((r) => r.id)).toEqual([run.run_id]);
  // The same command in our server works.
  const here = fake.interact(slashCommand("approve", [option("name", "ship")], PEOPLE.bob));
  await until("the answer", () => fake.answersTo(here).some((a) => a.kind === "edit"));
  expect(fake.answerText(here)).toContain(`✅ <@${PEOPLE.bob.id}>: approved step:2`);
  // One warning for the stranger server, however many times it knocked.
  expect(bot.log.entries.filter((e) => /ignoring server/.test(e.msg))).toHaveLength(1);
});

it("a command in a direct message is refused: there are no roles to check there", async () => {
  bot = await DiscordBot.start(ws, { guild: false });
  const run = await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  const approve = bot.fake.interact(inDirectMessage(slashCommand("approve", [option("name", "ship")], PEOPLE.bob)));
  await refusedPrivately(bot.fake, approve, NOT_IN_DMS);
  expect((await bot.runner.record(run.run_id)).status).toBe("awaiting_approval");
});

it("without DISCORD_GUILD_ID, any server the bot is in is served, and the log says so once at start", async () => {
  bot = await DiscordBot.start(ws, { guild: false, fake: { otherGuild: true } });
  expect(bot.log.entries.filter((e) => UNSCOPED.test(e.msg))).toEqual([{ level: "warn", msg: expect.stringContaining("turn off Public Bot") as unknown }]);
  const typed = inOtherGuild(messageCreate("deploy:2.0.0", PEOPLE.alice));
  bot.fake.dispatch("MESSAGE_CREATE", typed);
  const reply = await until("the reply", () => bot!.fake.messages.find((m) => m.message_reference?.message_id === typed["id"]));
  expect(reply.channel_id).toBe(DISCORD.other.channel);
  const list = bot.fake.interact(inOtherGuild(slashCommand("sop", [], PEOPLE.alice, "list")));
  await until("the answer", () => bot!.fake.answersTo(list).length > 0);
  expect(bot.fake.answerText(list)).toContain("`ship` 0.1.0");
});
