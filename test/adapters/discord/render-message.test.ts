/** A ChatMessage as Discord shows it: markdown, mentions, and every Discord limit kept whatever the input. */
import { describe, expect, it } from "vitest";
import { parseClickId } from "../../../adapters/discord/click-id.ts";
import { clip, discordMarkdown } from "../../../adapters/discord/discord-text.ts";
import { LIMITS, renderMessage } from "../../../adapters/discord/render-message.ts";
import { buttonId } from "../../../src/chat/button-id.ts";
import { message } from "../../../src/chat/chat-message.ts";

const RUN = "3f2a1b2c-0000-4000-8000-000000000001";

describe("Discord text", () => {
  it("turns *bold* into **bold** and identities into mentions, but never inside code", () => {
    const channel = (id: string) => id === "42";
    expect(discordMarkdown("*awaiting approval* at step 2; by discord:7 in discord:42 for discord-role:9", channel))
      .toBe("**awaiting approval** at step 2; by <@7> in <#42> for <@&9>");
    expect(discordMarkdown("`*not bold* discord:7`\n```\na *b* discord:7\n```\n*yes*")).toBe("`*not bold* discord:7`\n```\na *b* discord:7\n```\n**yes**");
    expect(discordMarkdown("2 * 3 * 4 and **already**")).toBe("2 * 3 * 4 and **already**");
  });

  it("cuts without leaving half a mention, half an emoji or an open code block", () => {
    expect(clip("hello <@1100000000000000101>", 12)).toBe("hello …");
    expect(clip("a😀b", 3)).toBe("a…");
    const cut = clip(`run:\n\`\`\`\n${"x".repeat(200)}\n\`\`\``, 50);
    expect(cut.length).toBeLessThanOrEqual(50);
    expect(cut.endsWith("…\n```")).toBe(true);
    expect(cut.split("```").length - 1).toBe(2);
  });
});

describe("renderMessage", () => {
  it("is an embed with the tone's colour, a linked title, fields and the buttons of the message", () => {
    const body = renderMessage(message({
      title: "Approval needed: ship 0.1.0", text: "ship waits", tone: "waiting",
      lines: ["⏳ Waiting for a decision"], fields: [{ label: "Who may approve", value: "discord-role:55 (and admins)" }],
      buttons: [
        { id: buttonId({ action: "approve", runId: RUN, checkpoint: "step:2" }), label: "Approve", style: "primary" },
        { id: buttonId({ action: "deny", runId: RUN, checkpoint: "step:2" }), label: "Deny", style: "danger" },
      ],
      footer: "small print", link: { label: "web", url: "http://bot.test/runs/1" },
    }), { ping: true });
    expect(body.embeds).toEqual([{
      title: "Approval needed: ship 0.1.0", color: 0xf59e0b, description: "⏳ Waiting for a decision",
      fields: [{ name: "Who may approve", value: "<@&55> (and admins)", inline: true }], footer: { text: "small print" }, url: "http://bot.test/runs/1",
    }]);
    expect(body.components).toEqual([{ type: 1, components: [
      { type: 2, custom_id: `sop|approve|${RUN}|step:2`, label: "Approve", style: 3 },
      { type: 2, custom_id: `sop|deny|${RUN}|step:2`, label: "Deny", style: 4 },
    ] }]);
    expect(body.content).toBe("<@&55> ship waits");
    expect(body.allowed_mentions).toEqual({ parse: [], roles: ["55"] });
    expect(renderMessage(message({ title: "x", lines: ["discord-role:55"] }), { ping: true }).allowed_mentions).toEqual({ parse: [] });
  });

  it("on an edit pings no one, and clears the content once the request no longer waits", () => {
    const waiting = message({ title: "t", text: "waits", fields: [{ label: "Who", value: "discord-role:55" }], buttons: [{ id: "sop|approve|r|c", label: "Approve", style: "primary" }] });
    expect(renderMessage(waiting, { edit: true })).toMatchObject({ content: "<@&55> waits", allowed_mentions: { parse: [] } });
    expect(renderMessage({ ...waiting, buttons: [] }, { edit: true })).toMatchObject({ content: "", allowed_mentions: { parse: [] } });
    expect(renderMessage({ ...waiting, buttons: [] }, { ping: true }).content).toBeUndefined();
  });

  it("keeps every Discord limit for an oversized message: 25 fields, their sizes, 4096 and 6000 in all", () => {
    const huge = message({
      title: "T".repeat(400),
      lines: Array.from({ length: 300 }, (_, i) => `line ${i} ${"y".repeat(40)}`),
      fields: Array.from({ length: 40 }, (_, i) => ({ label: `L${i}`.repeat(100), value: "v".repeat(2000) })),
      footer: "f".repeat(3000),
      buttons: Array.from({ length: 30 }, (_, i) => ({ id: `sop|approve|run-${i}|`, label: "B".repeat(100), style: "primary" as const })),
    });
    const [embed] = renderMessage(huge).embeds;
    const fields = embed!.fields ?? [];
    expect(embed!.title!.length).toBeLessThanOrEqual(LIMITS.title);
    expect(embed!.description!.length).toBeLessThanOrEqual(LIMITS.description);
    expect(embed!.description!.length).toBeGreaterThanOrEqual(200);
    expect(fields.length).toBeLessThanOrEqual(LIMITS.fields);
    for (const f of fields) {
      expect(f.name.length).toBeLessThanOrEqual(LIMITS.fieldName);
      expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    }
    const total = embed!.title!.length + embed!.description!.length + embed!.footer!.text.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(LIMITS.total);
    const rows = renderMessage(huge).components;
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.components.length === 5 && r.components.every((b) => b.label!.length <= LIMITS.buttonLabel))).toBe(true);
  });

  it("puts a title naming someone in the description, where Discord shows mentions, and drops a link it would refuse", () => {
    const [embed] = renderMessage(message({ title: "✅ discord:7: approved step:2", lines: ["“lgtm”"], link: { label: "x", url: "not a url" } })).embeds;
    expect(embed!.title).toBeUndefined();
    expect(embed!.description).toBe("**✅ <@7>: approved step:2**\n“lgtm”");
    expect(embed!.url).toBeUndefined();
  });

  it("marks a button that must be confirmed with an id of the same length that says so", () => {
    const id = buttonId({ action: "approve", runId: RUN, checkpoint: "g".repeat(51) });
    expect(id).toHaveLength(100);
    const body = renderMessage(message({ title: "t", buttons: [{ id, label: "Approve", style: "primary", confirm: { title: "?", text: "?", yes: "Approve", no: "Cancel" } }] }));
    const rendered = body.components[0]!.components[0]!.custom_id;
    expect(rendered).toHaveLength(100);
    expect(parseClickId(rendered)).toEqual({ mode: "ask", buttonId: id, target: { action: "approve", runId: RUN, checkpoint: "g".repeat(51) } });
    expect(parseClickId("sop-cancel")).toBeUndefined();
  });
});
