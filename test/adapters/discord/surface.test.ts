/** Editing a notification Discord refuses: a deleted message is posted again, a lost permission says what to fix. */
import { REST } from "discord.js";
import { afterEach, beforeEach, expect, it } from "vitest";
import { DiscordSurface } from "../../../adapters/discord/discord-surface.ts";
import { silentLogger } from "../../../src/app/logger.ts";
import { message } from "../../../src/chat/chat-message.ts";
import { DeliveryError, MessageGoneError } from "../../../src/chat/notifier.ts";
import { DISCORD, FakeDiscord } from "../../helpers/fake-discord.ts";

let fake: FakeDiscord;
let surface: DiscordSurface;

beforeEach(async () => {
  fake = await FakeDiscord.start();
  // As the adapter builds it: the real REST client, which neither retries nor waits.
  const rest = new REST({ api: fake.api, rejectOnRateLimit: () => true, retries: 0, timeout: 5000 });
  surface = new DiscordSurface({ rest, token: DISCORD.token, isChannel: () => false, log: silentLogger, defaultChannel: DISCORD.channel });
});

afterEach(async () => {
  await fake.close();
});

const request = message({ title: "Approval needed: ship 0.1.0", tone: "waiting" });
const decided = message({ title: "Approval: ship 0.1.0", tone: "success", lines: ["✅ Approved by discord:1100000000000000102"] });

it("editing a message someone deleted is MessageGoneError, so the notifier posts it again", async () => {
  const id = await surface.post(DISCORD.channel, request);
  fake.deleteMessage(id);
  const edit = surface.update(DISCORD.channel, id, decided);
  await expect(edit).rejects.toBeInstanceOf(MessageGoneError);
  await expect(edit).rejects.toThrow(`Discord: message ${id} in ${DISCORD.channel} was deleted; posting it again`);
});

it.each([
  [404, 10003, "Unknown Channel", /the channel \(or thread\) does not exist, or the bot cannot see it: check the channel id/],
  [403, 50001, "Missing Access", /the bot has no access to the channel: give it View Channel there/],
  [403, 50013, "Missing Permissions", /the bot lacks a permission in the channel: give it Send Messages, Embed Links/],
  [400, 50035, "Invalid Form Body\nembeds[0].description[BASE_TYPE_MAX_LENGTH]: Must be 4096 or fewer in length.", /sop-runner should have kept within Discord's limits: please report this line$/],
])("an edit refused with HTTP %i code %i is a DeliveryError that says what to fix, retried, never re-posted", async (status, code, said, hint) => {
  const id = await surface.post(DISCORD.channel, request);
  fake.failEdits(1, status, code, said);
  const edit = surface.update(DISCORD.channel, id, decided);
  await expect(edit).rejects.toBeInstanceOf(DeliveryError);
  await expect(edit).rejects.not.toBeInstanceOf(MessageGoneError);
  const err = (await edit.catch((e: unknown) => e)) as DeliveryError;
  expect(err.message).toMatch(new RegExp(`^Discord: cannot edit message ${id} in ${DISCORD.channel}: [^\\n]+ \\(code ${code}, HTTP ${status}\\): `));
  expect(err.message).toMatch(hint);
  // Not a rate limit: the notifier backs off by itself rather than waiting a time Discord set.
  expect(err.retryAfterMs).toBeUndefined();
  // Once access is back, the same edit goes through.
  await surface.update(DISCORD.channel, id, decided);
  expect(fake.messages.find((m) => m.id === id)!.embeds[0]!.title).toBe("Approval: ship 0.1.0");
});

it("posts step details as replies where the bot may start a thread but not write in it, instead of failing forever", async () => {
  await fake.close();
  fake = await FakeDiscord.start({ threadPostsAllowed: false });
  const rest = new REST({ api: fake.api, rejectOnRateLimit: () => true, retries: 0, timeout: 5000 });
  surface = new DiscordSurface({ rest, token: DISCORD.token, isChannel: () => false, log: silentLogger, defaultChannel: DISCORD.channel });
  const progress = await surface.post(DISCORD.channel, request);
  const detail = message({ title: "✅ Step 1 Build: success", tone: "success" });
  const id = await surface.post(DISCORD.channel, detail, progress);
  const reply = fake.messages.find((m) => m.id === id)!;
  expect(reply).toMatchObject({ channel_id: DISCORD.channel, message_reference: { message_id: progress } });
  // The next one goes straight to a reply: the channel is remembered.
  const next = await surface.post(DISCORD.channel, message({ title: "✅ Step 2 Ship: success", tone: "success" }), progress);
  expect(fake.messages.find((m) => m.id === next)).toMatchObject({ channel_id: DISCORD.channel });
});
