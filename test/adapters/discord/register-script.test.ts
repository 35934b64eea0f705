/** `npm run discord:register`: the same commands as the bot registers, without starting it. */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect, it } from "vitest";
import { slashCommands } from "../../../adapters/discord/slash-commands.ts";
import { DISCORD, FakeDiscord } from "../../helpers/fake-discord.ts";
import { Workspace } from "../../helpers/workspace.ts";

const SCRIPT = new URL("../../../scripts/discord-register.ts", import.meta.url).pathname;
/** As `npm run discord:register` runs it (node --import tsx), from a folder of its own. */
const TSX = import.meta.resolve("tsx");

let ws: Workspace;
let fake: FakeDiscord;

beforeEach(async () => {
  ws = await Workspace.create();
  fake = await FakeDiscord.start();
});

afterEach(async () => {
  await fake.close();
  await ws.remove();
});

async function register(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", TSX, SCRIPT], { cwd: ws.root, env: ws.env(env) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it("registers the guild commands with the settings from .env", async () => {
  await writeFile(join(ws.root, ".env"), `DISCORD_TOKEN=${DISCORD.token}\nDISCORD_APPLICATION_ID=${DISCORD.app}\nDISCORD_GUILD_ID=${DISCORD.guild}\n`);
  const result = await register({ DISCORD_API_URL: fake.api });
  expect(result).toMatchObject({ code: 0, stdout: `registered /approve, /deny, /sop in guild ${DISCORD.guild}\n` });
  const [put] = fake.commandRegistrations();
  expect(put).toMatchObject({ scope: "guild", names: ["approve", "deny", "sop"] });
  expect(put!.body).toEqual(JSON.parse(JSON.stringify(slashCommands("guild"))));
});

it("says what to fix when Discord refuses the token, or nothing is configured", async () => {
  const refused = await register({ DISCORD_API_URL: fake.api, DISCORD_TOKEN: "wrong", DISCORD_APPLICATION_ID: DISCORD.app });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("cannot register the commands globally");
  expect(refused.stderr).toContain("check DISCORD_TOKEN");
  const unset = await register({});
  expect(unset.code).toBe(2);
  expect(unset.stderr).toMatch(/set DISCORD_TOKEN and DISCORD_APPLICATION_ID/);
});
