/** Messages both ways: a channel message that triggers an SOP, and run notifications through rate limits and threads. */
import { afterEach, beforeEach, expect, it } from "vitest";
import { DISCORD, messageCreate, textOf } from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";
import { actor, addShip, DiscordBot, PEOPLE } from "./discord-bot.ts";

let ws: Workspace;
let bot: DiscordBot | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
});

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await ws.remove();
});

it("a message matching a command trigger starts the SOP with its captures, and the reply to it shows the plan", async () => {
  await ws.addExample("deploy-production");
  bot = await DiscordBot.start(ws);
  const typed = messageCreate("deploy:1.2.3", PEOPLE.alice);
  bot.fake.dispatch("MESSAGE_CREATE", typed);
  const reply = await until("the reply", () => bot!.fake.messages.find((m) => m.message_reference?.message_id === typed["id"]));
  expect(reply.channel_id).toBe(DISCORD.channel);
  expect(reply.message_reference).toMatchObject({ message_id: typed["id"], fail_if_not_exists: false });
  expect(reply.allowed_mentions).toEqual({ parse: [] });
  const text = textOf(reply);
  expect(text).toMatch(/^▶️ Started deploy-production 1\.0\.0, run [0-9a-f]{8}$/m);
  expect(text).toContain("⏳ 3. Deploy to Staging — waits for approval");

  const [run] = await bot.runner.runs({ sop: "deploy-production" });
  expect(run).toMatchObject({ inputVars: { version: "1.2.3" }, requestedBy: actor(PEOPLE.alice), trigger: { type: "command", text: "deploy:1.2.3", source: `discord:${DISCORD.channel}` } });
  // The channel the run came from is shown as a channel, the person as a person.
  await until("the progress message", () => bot!.fake.find(/^deploy-production 1\.0\.0 · run /));
  expect(textOf(bot.fake.find(/^deploy-production 1\.0\.0 · run /)!)).toContain(`Started: <@${PEOPLE.alice.id}> by the message \`deploy:1.2.3\` in <#${DISCORD.channel}>`);
});

it("messages from bots and messages that match no trigger start nothing and get no reply", async () => {
  await ws.addExample("deploy-production");
  bot = await DiscordBot.start(ws);
  bot.fake.dispatch("MESSAGE_CREATE", messageCreate("deploy:6.6.6", { id: "1100000000000000999" }, DISCORD.channel, true));
  bot.fake.dispatch("MESSAGE_CREATE", messageCreate("hello there", PEOPLE.alice));
  const marker = messageCreate("deploy:1.0.0", PEOPLE.alice);
  bot.fake.dispatch("MESSAGE_CREATE", marker);
  // Events are handled in order: once the last one is answered, the others were seen.
  await until("the reply", () => bot!.fake.messages.find((m) => m.message_reference?.message_id === marker["id"]));
  expect(bot.fake.messages.filter((m) => m.message_reference)).toHaveLength(1);
  expect((await bot.runner.runs({ sop: "deploy-production" })).map((r) => r.inputVars["version"])).toEqual(["1.0.0"]);
});

it("a 429 on posting holds the notifications for its retry-after, then delivers them in order", async () => {
  await addShip(ws);
  bot = await DiscordBot.start(ws);
  bot.fake.rateLimitMessageCreates(1, 0.4);
  const started = Date.now();
  const run = await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  // Discord's retry-after reaches the notifier, which waits exactly that (not its own backoff).
  await until("the notifier to wait out the rate limit", () => bot!.adapter.health().notifications.failing?.match(/^Discord rate limit on \/channels\/:id\/messages: retry in 4\d\d ms$/));
  await until("the request", () => bot!.fake.find("Approval needed: ship"));
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  expect(bot.fake.requests.filter((r) => r.status === 429)).toHaveLength(1);
  await bot.settled();
  expect(bot.adapter.health().notifications).toEqual({ pending: 0 });
  const titles = bot.fake.messages.filter((m) => m.channel_id === DISCORD.channel).map((m) => m.embeds[0]!.title);
  expect(titles).toEqual([`ship 0.1.0 · run ${run.run_id.slice(0, 8)}`, "Approval needed: ship 0.1.0"]);
});

it("a request someone deleted is posted again when the run moves on, showing how it was decided", async () => {
  await addShip(ws);
  bot = await DiscordBot.start(ws);
  const run = await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  await bot.settled();
  const request = bot.fake.find("Approval needed: ship")!;
  bot.fake.deleteMessage(request.id);
  await bot.runner.approve("ship", { actor: { id: actor(PEOPLE.bob), groups: [`discord-role:${DISCORD.roles.approvers}`] }, runId: run.run_id });
  const again = await until("the request posted again", () => bot!.fake.find("Approval: ship 0.1.0"));
  expect(again.id).not.toBe(request.id);
  expect(again.components).toEqual([]);
  expect(textOf(again)).toContain(`✅ Approved by <@${PEOPLE.bob.id}>`);
  expect(bot.fake.requests.filter((r) => r.method === "PATCH" && r.path.endsWith(`/messages/${request.id}`)).map((r) => r.status)).toContain(404);
  await bot.settled();
  expect(bot.adapter.health().notifications).toEqual({ pending: 0 });
});

it("an SOP's [notify] discord channels replace the default one, and step details go in a thread of the progress message", async () => {
  await addShip(ws, { notify: [DISCORD.deploys] });
  bot = await DiscordBot.start(ws);
  const run = await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  await bot.settled();
  expect(bot.fake.messages.filter((m) => m.channel_id === DISCORD.channel)).toEqual([]);
  const progress = bot.fake.find(/^ship 0\.1\.0 · run /, DISCORD.deploys)!;
  const thread = bot.fake.requests.find((r) => r.path.endsWith("/threads"))!;
  expect(thread.path).toBe(`/channels/${DISCORD.deploys}/messages/${progress.id}/threads`);
  expect(thread.body).toMatchObject({ name: `ship 0.1.0 · run ${run.run_id.slice(0, 8)}` });
  expect(bot.fake.find("Step 1 Build: success", progress.id)).toBeDefined();
});

it("where the bot may not start threads, step details are replies to the progress message", async () => {
  await addShip(ws);
  bot = await DiscordBot.start(ws, { fake: { threadsAllowed: false } });
  await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  await bot.settled();
  const progress = bot.fake.find(/^ship 0\.1\.0 · run /)!;
  const detail = bot.fake.find("Step 1 Build: success")!;
  expect(detail.channel_id).toBe(DISCORD.channel);
  expect(detail.message_reference).toMatchObject({ message_id: progress.id });
  expect(bot.log.has(/cannot use threads in channel .* step details are posted as replies/)).toBe(true);
});

it("without DISCORD_CHANNEL_ID or [notify] discord, a run posts nothing", async () => {
  await addShip(ws);
  bot = await DiscordBot.start(ws, { channelId: null });
  await bot.runner.execute("ship", { actor: actor(PEOPLE.alice) });
  await bot.settled();
  expect(bot.fake.messages).toEqual([]);
});
