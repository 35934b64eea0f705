/**
 * The Discord story end to end: `sop serve` as its own process, connected to a fake Discord. A
 * message starts a deploy, two people approve it with the buttons, the channel follows along and
 * ends with the audit summary; the audit file the process wrote names the approvers.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { buttonClick, buttonsOf, DISCORD, FakeDiscord, messageCreate, textOf, type FakeMessage } from "../helpers/fake-discord.ts";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace } from "../helpers/workspace.ts";

const alice = { id: DISCORD.users.alice };
const bob = { id: DISCORD.users.bob, roles: [DISCORD.roles.approvers] };
const carol = { id: DISCORD.users.carol };

let ws: Workspace;
let fake: FakeDiscord;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("deploy-production");
  fake = await FakeDiscord.start();
});

afterEach(async () => {
  if (serve) expect(await serve.stop()).toBe(0);
  serve = undefined;
  await fake.close();
  await ws.remove();
});

interface Health { chat: { discord: "off" | { connection: string; notifications: { pending: number } } } }

const live = (m: FakeMessage): FakeMessage => fake.messages.find((x) => x.id === m.id)!;

async function approve(request: FakeMessage, person: { id: string; roles?: string[] }): Promise<void> {
  const click = fake.interact(buttonClick(buttonsOf(request)["Approve"]!, person, fake.messageObject(request)));
  await until("the answer to the click", () => fake.answersTo(click).some((a) => a.kind === "edit"));
  expect(fake.answeredPrivately(click)).toBe(true);
  expect(fake.answerText(click)).toContain(`✅ <@${person.id}>: approved`);
}

it("a deploy started by a message is approved twice with buttons and ends with the audit summary", async () => {
  serve = await ServeProcess.start(ws, {
    DISCORD_TOKEN: DISCORD.token, DISCORD_APPLICATION_ID: DISCORD.app, DISCORD_GUILD_ID: DISCORD.guild,
    DISCORD_API_URL: fake.api, DISCORD_CHANNEL_ID: DISCORD.channel,
  });
  await until("the bot to connect", async () => {
    const { json } = await serve!.api<Health>("GET", "/healthz");
    return json.chat.discord !== "off" && json.chat.discord.connection === "connected";
  });
  await until("the commands to be registered", () => fake.commandRegistrations().some((r) => r.scope === "guild"));

  const typed = messageCreate("deploy:1.2.3", alice);
  fake.dispatch("MESSAGE_CREATE", typed);
  const reply = await until("the reply to the message", () => fake.messages.find((m) => m.message_reference?.message_id === typed["id"]));
  expect(textOf(reply)).toMatch(/^▶️ Started deploy-production 1\.0\.0, run [0-9a-f]{8}$/m);
  const progress = await until("the progress message", () => fake.find(/^deploy-production 1\.0\.0 · run /, DISCORD.channel));

  const staging = await until("the first approval request", () => fake.find("Approval needed: deploy-production"));
  expect(textOf(staging)).toContain("`step:3` — step 3 Deploy to Staging");
  expect(textOf(staging)).toContain("`version=1.2.3`");
  await approve(staging, bob);
  await until("the first request to show who approved", () => live(staging).components.length === 0 && live(staging).embeds[0]!.description?.includes(`✅ Approved by <@${bob.id}>`));

  // The first request, decided, is titled "Approval: …" now.
  expect(live(staging).embeds[0]!.title).toBe("Approval: deploy-production 1.0.0");
  const production = await until("the second approval request", () => fake.find("Approval needed: deploy-production"));
  expect(production.id).not.toBe(staging.id);
  expect(textOf(production)).toContain("`step:5` — step 5 Deploy to Production");
  await approve(production, carol);

  const summary = await until("the audit summary", () => fake.find(/^Audit summary: deploy-production 1\.0\.0 · run [0-9a-f]{8} success$/), 20_000);
  expect(summary.embeds[0]!.fields).toContainEqual({ name: "Approvals", value: `\`step:3\` approved by <@${bob.id}>; \`step:5\` approved by <@${carol.id}>`, inline: false });
  // The run is sealed into the audit chain a moment after it ends: the summary may be posted
  // first, and the edit that follows the seal adds its hash.
  const footer = await until("the summary to show the audit hash", () => {
    const text = live(summary).embeds[0]!.footer?.text ?? "";
    return text.includes("audit hash") && text;
  });
  expect(footer).toMatch(/^run [0-9a-f-]{36} · audit hash [0-9a-f]{16}…$/);
  await until("the progress message to show success", () => live(progress).embeds[0]!.description?.startsWith("**success**"));

  const record = await until("the audit file", async () => (await ws.auditFiles("deploy-production").catch(() => []))[0]);
  expect(record).toMatchObject({ status: "success", requested_by: `discord:${alice.id}`, vars: { version: "1.2.3" } });
  expect(record.approvals.map((a) => [a.gate, a.decision, a.by])).toEqual([
    ["step:3", "approved", [`discord:${bob.id}`]],
    ["step:5", "approved", [`discord:${carol.id}`]],
  ]);
});
