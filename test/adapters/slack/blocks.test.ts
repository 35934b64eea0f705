/** Block Kit rendering: what people see, and messages Slack would reject never leave the bot. */
import fc from "fast-check";
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

  it("keeps room for the closing fence when a line too long for what is left of a code block is split", () => {
    // The code block's first line leaves no room, or a few characters, for the long line after it.
    for (const lines of [["```", "a".repeat(2991), "b".repeat(3000)], ["```", `${"a".repeat(2983)}&`, "b".repeat(4000)]]) {
      const chunks = lineChunks(lines, LIMITS.sectionText);
      expect(chunks.map((c) => c.length <= LIMITS.sectionText)).toEqual(chunks.map(() => true));
      expect(chunks[0]!.startsWith(`\`\`\`\n${lines[1]!.replace("&", "&amp;")}\n`)).toBe(true);
      expect(chunks.every((c) => c.startsWith("```\n") && c.endsWith("\n```"))).toBe(true);
      expect(chunks.join("").replace(/[^b]/g, "")).toBe(lines[2]);
    }
  });

  it("never makes a section longer than 3000 characters or a message of more than 50 blocks, whatever the lines (property)", () => {
    const piece = fc.constantFrom("a", " ", "&", "<", ">", "\n", "😀", "`", "slack:U123 ", "slack-group:S0OPS ", "```");
    // Lengths near a section's limit are where the off-by-a-few mistakes are.
    const length = fc.oneof(fc.integer({ min: 1, max: 3100 }), fc.integer({ min: 2975, max: 3000 }), fc.constantFrom(4000, 7000));
    const run = fc.tuple(piece, length).map(([p, n]) => p.repeat(Math.max(1, Math.floor(n / p.length))));
    const line = fc.oneof(fc.constant("```"), fc.constantFrom("", "ok"), run, fc.array(run, { minLength: 2, maxLength: 3 }).map((runs) => runs.join("")));
    const shape = fc.record({
      lines: fc.array(line, { maxLength: 14 }),
      fields: fc.array(fc.record({ label: fc.string({ maxLength: 40 }), value: run }), { maxLength: 20 }),
      buttons: fc.integer({ min: 0, max: 5 }),
    });
    fc.assert(fc.property(shape, ({ lines, fields, buttons }) => {
      for (const chunk of lineChunks(lines, LIMITS.sectionText)) expect(chunk.length).toBeLessThanOrEqual(LIMITS.sectionText);
      const { blocks } = renderMessage(message({
        title: lines[0] ?? "t", lines, fields, footer: lines.at(-1) ?? "",
        buttons: Array.from({ length: buttons }, (_, i) => ({ id: `sop|approve|r${i}|c`, label: `B${i}`, style: "primary" as const })),
      }));
      expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
      for (const b of blocks as Block[]) {
        expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(LIMITS.sectionText);
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
        for (const e of b.elements ?? []) if (typeof e.text === "string") expect(e.text.length).toBeLessThanOrEqual(LIMITS.contextText);
      }
    }), { numRuns: 300 });
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
