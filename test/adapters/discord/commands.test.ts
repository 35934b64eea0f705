/** Slash commands as a Discord user types them: registered at start, answered in time, in public or privately. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunFilter } from "../../../src/ports/run-store.ts";
import { autocomplete, buttonsOf, DISCORD, option, slashCommand } from "../../helpers/fake-discord.ts";
import { until } from "../../helpers/until.ts";
import { Workspace } from "../../helpers/workspace.ts";
import { storeOf } from "../../helpers/runner-internals.ts";
import { actor, addShip, DiscordBot, PEOPLE } from "./discord-bot.ts";

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

describe("registration", () => {
  it("registers /approve, /deny and /sop in the guild at start", async () => {
    bot = await DiscordBot.start(ws);
    await until("the commands to be registered", () => bot!.fake.commandRegistrations().length > 0);
    const [registered] = bot.fake.commandRegistrations();
    expect(registered!.scope).toBe("guild");
    expect(bot.fake.requests.find((r) => r.method === "PUT")!.path).toBe(`/applications/${DISCORD.app}/guilds/${DISCORD.guild}/commands`);
    expect(registered!.names).toEqual(["approve", "deny", "sop"]);
    const sop = registered!.body.find((c) => c["name"] === "sop")!;
    expect((sop["options"] as { name: string }[]).map((o) => o.name)).toEqual(["list", "run", "plan", "status", "cancel", "stats", "help"]);
    expect(bot.log.has(/slash commands \/approve \/deny \/sop registered in guild/)).toBe(true);
  });

  it("registers them globally, for guilds only, without DISCORD_GUILD_ID", async () => {
    bot = await DiscordBot.start(ws, { guild: false });
    await until("the commands to be registered", () => bot!.fake.commandRegistrations().length > 0);
    const [registered] = bot.fake.commandRegistrations();
    expect(registered!.scope).toBe("global");
    expect(registered!.body.every((c) => JSON.stringify(c["contexts"]) === "[0]")).toBe(true);
    // Not usable where a person installed the app on their own account, only where the bot was invited.
    expect(registered!.body.every((c) => JSON.stringify(c["integration_types"]) === "[0]")).toBe(true);
  });
});

describe("commands", () => {
  beforeEach(async () => {
    bot = await DiscordBot.start(ws);
  });

  it("/approve resumes the waiting run, says so in the channel, and the request is edited to show who approved", async () => {
    const run = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice) });
    expect(run.status).toBe("awaiting_approval");
    await bot!.settled();
    const request = bot!.fake.find("Approval needed: ship")!;
    expect(Object.keys(buttonsOf(request))).toEqual(["Approve", "Deny"]);
    expect(request.content).toBe(`<@&${DISCORD.roles.approvers}> ship run ${run.run_id.slice(0, 8)} waits at step:2 for approval`);
    expect(request.allowed_mentions).toEqual({ parse: [], roles: [DISCORD.roles.approvers] });

    const i = bot!.fake.interact(slashCommand("approve", [option("name", "ship"), option("comment", "ready to go")], PEOPLE.bob));
    await until("the answer", () => bot!.fake.answersTo(i).some((a) => a.kind === "edit"));
    expect(bot!.fake.answersTo(i)[0]).toMatchObject({ kind: "callback", type: 5 });
    expect(bot!.fake.answeredPrivately(i)).toBe(false);
    expect(bot!.fake.answerText(i)).toContain(`✅ <@${PEOPLE.bob.id}>: approved step:2 of run ${run.run_id}`);

    await until("the run to succeed", async () => (await bot!.runner.record(run.run_id)).status === "success");
    await bot!.settled();
    const edited = bot!.fake.messages.find((m) => m.id === request.id)!;
    expect(edited.edits.length).toBeGreaterThan(0);
    expect(edited.components).toEqual([]);
    expect(edited.content).toBe("");
    expect(edited.edits.at(-1)!["allowed_mentions"]).toEqual({ parse: [] });
    expect(edited.embeds[0]!.description).toMatch(new RegExp(`^✅ Approved by <@${PEOPLE.bob.id}> at .*: ready to go$`, "m"));
    const record = await bot!.runner.record(run.run_id);
    expect(record.approvals[0]).toMatchObject({ decision: "approved", by: [actor(PEOPLE.bob)], comment: "ready to go" });
    // The store says "success" a moment before the bus announces it to the notifier.
    await until("the audit summary", () => bot!.fake.find(/^Audit summary: ship /) !== undefined);
  });

  it("a refused /approve is told to the caller only, and the run still waits", async () => {
    const run = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice) });
    const i = bot!.fake.interact(slashCommand("approve", [option("name", "ship")], PEOPLE.mallory));
    await until("the answer", () => bot!.fake.answersTo(i).some((a) => a.kind === "followup"));
    // Deferred in public, the refusal replaces it privately.
    expect(bot!.fake.answersTo(i).map((a) => a.kind)).toEqual(["callback", "delete", "followup"]);
    expect(bot!.fake.answeredPrivately(i)).toBe(true);
    expect(bot!.fake.answerText(i)).toBe(`**not allowed: <@${PEOPLE.mallory.id}> is not an approver of step:2 (approvers: <@&${DISCORD.roles.approvers}>)**`);
    expect((await bot!.runner.record(run.run_id)).status).toBe("awaiting_approval");
  });

  it("/sop run starts a run with the typed vars, answered privately (the vars may be secret); vars that are not key=value are refused", async () => {
    const i = bot!.fake.interact(slashCommand("sop", [option("name", "ship"), option("vars", 'ticket=OPS-7 note="two words"')], PEOPLE.alice, "run"));
    await until("the answer", () => bot!.fake.answersTo(i).some((a) => a.kind === "edit"));
    // Deferred privately from the start: nothing, not even "thinking…", shows the command in the channel.
    expect(bot!.fake.answersTo(i).map((a) => a.type ?? a.kind)).toEqual([5, "edit"]);
    expect(bot!.fake.answeredPrivately(i)).toBe(true);
    expect(bot!.fake.answerText(i)).toMatch(/^▶️ Started ship 0\.1\.0, run [0-9a-f]{8}/);
    const [run] = await bot!.runner.runs({ sop: "ship" });
    expect(run).toMatchObject({ inputVars: { ticket: "OPS-7", note: "two words" }, requestedBy: actor(PEOPLE.alice), trigger: { type: "manual", source: `discord:${DISCORD.channel}` } });

    const bad = bot!.fake.interact(slashCommand("sop", [option("name", "ship"), option("vars", "oops")], PEOPLE.alice, "run"));
    await until("the answer", () => bot!.fake.answersTo(bad).length > 0);
    expect(bot!.fake.answersTo(bad)[0]).toMatchObject({ kind: "callback", type: 4 });
    expect(bot!.fake.answeredPrivately(bad)).toBe(true);
    expect(bot!.fake.answerText(bad)).toBe('/sop run: "oops" is not key=value\n`/sop help` lists the commands.');
  });

  it("/sop list, plan and help answer at once and privately; status is deferred privately", async () => {
    const list = bot!.fake.interact(slashCommand("sop", [], PEOPLE.alice, "list"));
    const plan = bot!.fake.interact(slashCommand("sop", [option("name", "ship")], PEOPLE.alice, "plan"));
    const help = bot!.fake.interact(slashCommand("sop", [], PEOPLE.alice, "help"));
    const status = bot!.fake.interact(slashCommand("sop", [option("target", "ship")], PEOPLE.alice, "status"));
    await until("four answers", () => [list, plan, help].every((i) => bot!.fake.answersTo(i).length > 0) && bot!.fake.answersTo(status).some((a) => a.kind === "edit"));
    for (const i of [list, plan, help]) {
      expect(bot!.fake.answersTo(i)[0]).toMatchObject({ kind: "callback", type: 4 });
      expect(bot!.fake.answeredPrivately(i)).toBe(true);
    }
    expect(bot!.fake.answerText(list)).toContain("`ship` 0.1.0 (medium) — Ship the build");
    expect(bot!.fake.answerText(plan)).toContain("⏳ 2. Ship — waits for approval");
    expect(bot!.fake.answerText(help)).toContain("`/approve NAME [RUN_ID] [comment]`");
    expect(bot!.fake.answersTo(status)[0]).toMatchObject({ kind: "callback", type: 5, data: { flags: 64 } });
    expect(bot!.fake.answerText(status)).toContain("ship: 0 going, 0 queued");
  });

  it("autocompletes SOP names, and the runs of the chosen SOP that wait for a decision", async () => {
    await addShip(ws, { sop: "shipyard" });
    await bot!.runner.reload();
    const names = bot!.fake.interact(autocomplete("approve", [option("name", "shi", true)], PEOPLE.bob));
    await until("choices", () => bot!.fake.answersTo(names).length > 0);
    expect(bot!.fake.answersTo(names)[0]).toMatchObject({ kind: "callback", type: 8, data: { choices: [{ name: "ship", value: "ship" }, { name: "shipyard", value: "shipyard" }] } });

    const waiting = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice) });
    await bot!.runner.execute("shipyard", { actor: actor(PEOPLE.alice) });
    const runs = bot!.fake.interact(autocomplete("approve", [option("name", "ship"), option("run", "", true)], PEOPLE.bob));
    await until("choices", () => bot!.fake.answersTo(runs).length > 0);
    const choices = bot!.fake.answersTo(runs)[0]!.data!["choices"] as { name: string; value: string }[];
    expect(choices.map((c) => c.value)).toEqual([waiting.run_id]);
    expect(choices[0]!.name).toBe(`ship run ${waiting.run_id.slice(0, 8)} — awaiting approval at step:2 (started by discord:${PEOPLE.alice.id})`);
  });

  it("autocompletes a /sop status target with SOP names and the runs still going (queued ones too, to cancel them), asking the store for those only", async () => {
    const waiting = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice) });
    const ended = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice), wait: false });
    await bot!.runner.cancel(ended.run_id, { actor: actor(PEOPLE.alice) });
    // max_concurrent = 1: it queues behind the waiting run.
    const queued = await bot!.runner.execute("ship", { actor: actor(PEOPLE.alice), wait: false });
    await bot!.settled();
    expect((await bot!.runner.run(queued.run_id))?.run.status).toBe("queued");
    // At every keystroke: with ten thousand ended runs, reading them all would be felt.
    const asked: RunFilter[] = [];
    const store = storeOf(bot!.runner);
    const list = store.list.bind(store);
    store.list = (filter) => {
      asked.push(filter ?? {});
      return list(filter);
    };
    const typing = bot!.fake.interact(autocomplete("sop", [option("target", "", true)], PEOPLE.alice, "status"));
    await until("choices", () => bot!.fake.answersTo(typing).length > 0);
    const choices = bot!.fake.answersTo(typing)[0]!.data!["choices"] as { name: string; value: string }[];
    expect(choices.map((c) => c.value)).toEqual(["ship", queued.run_id, waiting.run_id]);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((f) => f.statuses !== undefined && !f.statuses.includes("cancelled"))).toBe(true);
  });
});
