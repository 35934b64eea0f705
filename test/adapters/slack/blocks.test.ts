/** Block Kit rendering: what people see, and messages Slack would reject never leave the bot. */
import { describe, expect, it } from "vitest";
import { button, LIMITS, lineChunks, renderMessage } from "../../../adapters/slack/blocks.ts";
import { clip, plainText } from "../../../adapters/slack/slack-text.ts";
import { message } from "../../../src/chat/chat-message.ts";
import { textOf, type Block } from "../../helpers/fake-slack.ts";

const textsOf = (blocks: readonly unknown[]): string[] =>
  (blocks as Block[]).flatMap((b) => [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)]).filter(Boolean);

describe("Slack Block Kit rendering", () => {
  it("lays out title, lines, fields, buttons and small print, with identities as mentions", () => {
    const { text, blocks } = renderMessage(message({
      title: "Approval needed: deploy 1.0.0",
      text: "deploy run 1a2b3c4d waits at step:3 for approval",
      lines: ["⏳ Waiting for a decision", "", "*Plan*", "✅ 1. Build — done"],
      fields: [{ label: "Who may approve", value: "slack:U0ALICE, slack-group:S0OPS (and admins)" }, { label: "Started", value: "slack:U0BOB by the message `deploy:1.2.3` in slack:C0DEPLOYS" }],
      buttons: [{ id: "sop|approve|r1|step:3", label: "Approve", style: "primary" }, { id: "sop|deny|r1|step:3", label: "Deny", style: "danger" }],
      footer: "run r1",
      link: { label: "Open the run in the web UI", url: "https://bot.example/runs/r1?a=1&b=2" },
    }));
    expect(text).toBe("deploy run 1a2b3c4d waits at step:3 for approval");
    expect(blocks.map((b) => b.type)).toEqual(["section", "section", "section", "actions", "context"]);
    expect(textsOf(blocks)).toEqual([
      "*Approval needed: deploy 1.0.0*",
      "⏳ Waiting for a decision\n\n*Plan*\n✅ 1. Build — done",
      "*Who may approve*\n<@U0ALICE>, <!subteam^S0OPS> (and admins)",
      "*Started*\n<@U0BOB> by the message `deploy:1.2.3` in <#C0DEPLOYS>",
    ]);
    expect(textOf({ blocks: blocks as Block[] })).toContain("[Approve]\n[Deny]\nrun r1\n<https://bot.example/runs/r1?a=1&amp;b=2|Open the run in the web UI>");
  });

  it("escapes what people and steps wrote, so nobody can ping the channel or forge a link (evil)", () => {
    const { text, blocks } = renderMessage(message({ title: "<!channel> deploy & <https://evil.example|click>", lines: ["a < b > c &amp; d"] }));
    expect(textsOf(blocks)).toEqual([
      "*&lt;!channel&gt; deploy &amp; &lt;https://evil.example|click&gt;*",
      "a &lt; b &gt; c &amp;amp; d",
    ]);
    expect(text).toBe("&lt;!channel&gt; deploy &amp; &lt;https://evil.example|click&gt;");
  });

  it("gives buttons their id as action_id and value, their style, and a confirm dialog when asked", () => {
    expect(button({ id: "sop|approve|r1|step:3", label: "Approve", style: "primary", confirm: { title: "Approve deploy?", text: "deploy is critical.", yes: "Approve", no: "Cancel" } })).toEqual({
      type: "button", action_id: "sop|approve|r1|step:3", value: "sop|approve|r1|step:3", style: "primary",
      text: { type: "plain_text", text: "Approve", emoji: true },
      confirm: {
        title: { type: "plain_text", text: "Approve deploy?", emoji: true },
        text: { type: "plain_text", text: "deploy is critical.", emoji: true },
        confirm: { type: "plain_text", text: "Approve", emoji: true },
        deny: { type: "plain_text", text: "Cancel", emoji: true },
      },
    });
  });

  it("splits long lines over sections of at most 3000 characters without losing a character", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, "0")} ${"x".repeat(95)}`);
    const chunks = lineChunks(lines, LIMITS.sectionText);
    expect(chunks.length).toBe(4);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(chunks.join("\n")).toBe(lines.join("\n"));

    const one = "y".repeat(7000);
    const pieces = lineChunks([one], LIMITS.sectionText);
    expect(pieces.every((p) => p.length <= LIMITS.sectionText)).toBe(true);
    expect(pieces.join("")).toBe(one);
  });

  it("closes a code block cut between sections and opens it again in the next", () => {
    const output = Array.from({ length: 80 }, (_, i) => `line ${i} ${"o".repeat(60)}`).join("\n");
    const chunks = lineChunks(["Output:", "```", output, "```", "done"], LIMITS.sectionText);
    expect(chunks.length).toBe(2);
    expect(chunks[0]).toMatch(/^Output:\n```\nline 0 /);
    expect(chunks[0]).toMatch(/\n```$/);
    expect(chunks[1]).toMatch(/^```\nline \d+ /);
    expect(chunks[1]).toMatch(/\n```\ndone$/);
  });

  it("keeps a message within 50 blocks, saying what was left out, and keeps the buttons", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `${i} ${"z".repeat(2990)}`);
    const fields = Array.from({ length: 12 }, (_, i) => ({ label: `F${i}`, value: "v".repeat(2500) }));
    const { blocks } = renderMessage(message({ title: "big", lines, fields, buttons: [{ id: "sop|approve|r|c", label: "Approve", style: "primary" }], footer: "f" }));
    expect(blocks.length).toBe(LIMITS.blocks);
    const sections = blocks as Block[];
    expect(sections.at(-1)?.type).toBe("context");
    expect(sections.at(-2)?.type).toBe("actions");
    expect(sections.filter((b) => b.fields).map((b) => b.fields!.length)).toEqual([10, 2]);
    for (const b of sections) for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    expect(sections.at(-5)?.text?.text).toMatch(/^_… \d+ more section\(s\) not shown_$/);
  });

  it("never cuts a text inside a mention, an entity or an emoji", () => {
    expect(clip("ab <@U12345> cd", 8)).toBe("ab …");
    expect(clip("ab &amp; cd", 6)).toBe("ab …");
    expect(clip("ab 😀 cd", 5)).toBe("ab …");
    expect(clip("short", 10)).toBe("short");
  });

  it("reads what a person typed, whatever Slack did to it", () => {
    expect(plainText("deploy:1.2.3")).toBe("deploy:1.2.3");
    expect(plainText("rollback &lt;now&gt; &amp; tell <https://x.example/a|x.example/a>")).toBe("rollback <now> & tell x.example/a");
    expect(plainText("see <https://x.example>")).toBe("see https://x.example");
  });
});
