/**
 * The two places the adapter reads from or writes to Slack on its own, with the real Web API
 * client against the fake: who is in a user group (and what happens while Slack cannot say),
 * and how a failed post or edit reaches the notifier.
 */
import { webApi } from "@slack/bolt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { webClientOptions } from "../../../adapters/slack/slack-app.ts";
import { GroupsUnavailable, SlackGroups } from "../../../adapters/slack/slack-groups.ts";
import { SlackSurface } from "../../../adapters/slack/slack-surface.ts";
import { message } from "../../../src/chat/chat-message.ts";
import { DeliveryError, MessageGoneError } from "../../../src/chat/notifier.ts";
import { FakeSlack } from "../../helpers/fake-slack.ts";
import { recordingLogger, type LogLine } from "./slack-harness.ts";

const OPS = "slack-group:S0OPS";
const DB = "slack-group:S0DB";

let fake: FakeSlack;
let client: webApi.WebClient;

beforeEach(async () => {
  fake = await FakeSlack.start();
  client = new webApi.WebClient("xoxb-test", webClientOptions(fake.apiUrl));
});

afterEach(async () => {
  await fake.close();
});

describe("Slack user group lookups", () => {
  it("keeps counting the members last read while a lookup fails, and asks no sooner than a 429's Retry-After", async () => {
    let now = 0;
    const logs: LogLine[] = [];
    const groups = new SlackGroups(client, recordingLogger(logs), () => now);
    fake.groups.set("S0OPS", ["UBOB"]);
    const lookups = () => fake.callsOf("usergroups.users.list").length;

    expect(await groups.of("UBOB", [OPS])).toEqual([OPS]);
    now = 30_000;
    expect(await groups.of("UBOB", [OPS])).toEqual([OPS]);
    expect(lookups()).toBe(1);

    // A minute on, the lookup is due, and Slack refuses it for 30 s: Bob still counts.
    now = 61_000;
    fake.failNext("usergroups.users.list", 1, { status: 429, retryAfter: 30 });
    expect(await groups.of("UBOB", [OPS])).toEqual([OPS]);
    expect(lookups()).toBe(2);
    now = 80_000;
    expect(await groups.of("UBOB", [OPS])).toEqual([OPS]);
    expect(lookups()).toBe(2);

    // Once the 30 s are over it asks again, and a change of members counts at once.
    now = 92_000;
    fake.groups.set("S0OPS", ["UCAROL"]);
    expect(await groups.of("UBOB", [OPS])).toEqual([]);
    expect(lookups()).toBe(3);
    expect(logs.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
      expect.stringContaining(`cannot read the members of ${OPS}`),
    ]);
    expect(logs.filter((l) => l.msg === `Slack: members of ${OPS} readable again`)).toHaveLength(1);
  });

  it("cannot tell when a group was never read and Slack refuses: GroupsUnavailable, with the cause", async () => {
    const groups = new SlackGroups(client, recordingLogger([]));
    fake.groups.set("S0OPS", ["UBOB"]);
    fake.groups.set("S0DB", ["UBOB"]);
    fake.failNext("usergroups.users.list", 1, { error: "missing_scope" }, (args) => args["usergroup"] === "S0DB");
    const failed = groups.of("UBOB", [OPS, DB]);
    await expect(failed).rejects.toBeInstanceOf(GroupsUnavailable);
    await expect(failed).rejects.toThrow("cannot check your Slack groups right now (missing_scope: add the missing scope to the app and reinstall it); try again in a moment");
    expect(await groups.of("UBOB", [OPS, DB])).toEqual([OPS, DB]);
  });

  it("asks Slack once for a group however many clicks wait for it at the same time", async () => {
    const groups = new SlackGroups(client, recordingLogger([]));
    fake.groups.set("S0OPS", ["UBOB", "UCAROL"]);
    const answers = await Promise.all(["UBOB", "UCAROL", "UMALLORY"].map((u) => groups.of(u, [OPS])));
    expect(answers).toEqual([[OPS], [OPS], []]);
    expect(fake.callsOf("usergroups.users.list")).toHaveLength(1);
  });
});

describe("Slack notification delivery errors", () => {
  const surface = () => new SlackSurface(client, "C0OPS");
  const shown = message({ title: "Approval needed" });

  it("says a deleted message is gone, so the notifier posts it again", async () => {
    const posted = await surface().post("C0OPS", shown);
    fake.deleteMessage(fake.messages[0]!);
    const gone = surface().update("C0OPS", posted, shown);
    await expect(gone).rejects.toBeInstanceOf(MessageGoneError);
    await expect(gone).rejects.toThrow("chat.update in C0OPS: message_not_found: the message was deleted");
  });

  it("takes a message it may no longer edit (cant_update_message) for gone too", async () => {
    const posted = await surface().post("C0OPS", shown);
    fake.failNext("chat.update", 1, { error: "cant_update_message" });
    await expect(surface().update("C0OPS", posted, shown)).rejects.toBeInstanceOf(MessageGoneError);
  });

  it("names the call, the channel and what to do for a lasting failure, and carries a 429's Retry-After", async () => {
    const s = surface();
    fake.failNext("chat.postMessage", 1, { error: "channel_not_found" });
    const lost = await s.post("C0GONE", shown).catch((err: unknown) => err);
    expect(lost).toBeInstanceOf(DeliveryError);
    expect(lost).not.toBeInstanceOf(MessageGoneError);
    expect(lost).toMatchObject({ message: "chat.postMessage to C0GONE: channel_not_found: check the channel id in SLACK_CHANNEL or [notify] slack, and that the bot is in it", retryAfterMs: undefined });

    fake.failNext("chat.postMessage", 1, { error: "is_archived" });
    await expect(s.post("C0OLD", shown)).rejects.toThrow("chat.postMessage to C0OLD: is_archived: the channel is archived: unarchive it, or change SLACK_CHANNEL or [notify] slack");

    const posted = await s.post("C0OPS", shown);
    fake.failNext("chat.update", 1, { status: 429, retryAfter: 7 });
    const limited = await s.update("C0OPS", posted, shown).catch((err: unknown) => err);
    expect(limited).not.toBeInstanceOf(MessageGoneError);
    expect(limited).toMatchObject({ retryAfterMs: 7000, message: "chat.update in C0OPS: rate limited by Slack: retry after 7 s" });
  });
});
