/**
 * /metrics counts every start, however it was asked for: the runner says what it accepted and
 * refused, and the metrics listen there, so no way in can forget to report (chat and the web
 * UI's run form once did).
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/app/logger.ts";
import { BotMetrics } from "../../src/http/metrics.ts";
import { addShip, DiscordBot, PEOPLE } from "../adapters/discord/discord-bot.ts";
import { option, slashCommand } from "../helpers/fake-discord.ts";
import { until } from "../helpers/until.ts";
import { postForm, signIn, TOKENS, webFixture, type WebFixture } from "../helpers/web-app.ts";
import { steps, Workspace } from "../helpers/workspace.ts";

let web: WebFixture | undefined;
let bot: DiscordBot | undefined;
let ws: Workspace | undefined;
let stop: (() => void) | undefined;

afterEach(async () => {
  stop?.();
  await web?.close();
  await bot?.close();
  await ws?.remove();
  web = bot = ws = stop = undefined;
});

const counted = (metrics: BotMetrics, line: RegExp) => until(`${line} in /metrics`, async () => line.test(await metrics.text()));

describe("/metrics counts the runs started", () => {
  it("from the web UI's run form, and the refusal of a second one in the cooldown", async () => {
    web = await webFixture((w) => w.addSop("cool", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 3600`, steps("**A**\n```sh\necho a\n```")));
    const metrics = new BotMetrics(web.runner, silentLogger);
    stop = metrics.start();
    const b = await signIn(web.app, TOKENS.get("alice")!);
    expect((await postForm(web.app, b, "/sops/cool/run", { _csrf: b.csrf })).statusCode).toBe(303);
    expect((await postForm(web.app, b, "/sops/cool/run", { _csrf: b.csrf })).statusCode).toBe(303);
    await counted(metrics, /^sop_runs_accepted_total\{sop="cool",trigger="manual",via="web"\} 1$/m);
    await counted(metrics, /^sop_runs_refused_total\{sop="cool",reason="cooldown",trigger="manual"\} 1$/m);
  });

  it("from chat: Discord's /sop run", async () => {
    ws = await Workspace.create();
    await addShip(ws);
    bot = await DiscordBot.start(ws);
    const metrics = new BotMetrics(bot.runner, silentLogger);
    stop = metrics.start();
    bot.fake.interact(slashCommand("sop", [option("name", "ship")], PEOPLE.alice, "run"));
    await counted(metrics, /^sop_runs_accepted_total\{sop="ship",trigger="manual",via="discord"\} 1$/m);
  });

  it("from a command trigger typed in chat, counted as a firing too", async () => {
    ws = await Workspace.create();
    await ws.addSop("greet", `description = "x"\nexecution_mode = "automatic"\n[[triggers]]\ntype = "command"\npattern = "^hello (?<who>\\\\w+)$"\ncapture_groups = true`, steps("**Hi**\n```sh\necho hi\n```"));
    const runner = await ws.runner();
    const metrics = new BotMetrics(runner, silentLogger);
    stop = metrics.start();
    try {
      const [result] = await runner.trigger("hello you", { actor: "slack:UALICE", source: "slack:C0OPS" });
      expect(result?.record).toBeDefined();
      await counted(metrics, /^sop_runs_accepted_total\{sop="greet",trigger="command",via="slack"\} 1$/m);
      await counted(metrics, /^sop_trigger_firings_total\{type="command",sop="greet",outcome="started"\} 1$/m);
    } finally {
      await runner.close();
    }
  });
});
