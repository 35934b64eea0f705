/** An approval request as Block Kit: whatever it lets run and however the SOP changed, Slack never refuses it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS, renderMessage } from "../../../adapters/slack/blocks.ts";
import { fencesBalanced, requestMessage } from "../../chat/request-arbitraries.ts";
import type { Block } from "../../helpers/fake-slack.ts";

describe("an approval request in Slack", () => {
  it("keeps every Block Kit limit and closes every code block it cuts, whatever the steps, commands, variables and change (property)", () => {
    fc.assert(fc.property(requestMessage, (m) => {
      const { text, blocks } = renderMessage(m);
      expect(text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
      expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
      for (const b of blocks as Block[]) {
        const section = b.text?.text ?? "";
        expect(section.length).toBeLessThanOrEqual(LIMITS.sectionText);
        expect(fencesBalanced(section)).toBe(true);
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
        for (const e of b.elements ?? []) if (typeof e.text === "string") expect(e.text.length).toBeLessThanOrEqual(LIMITS.contextText);
      }
      // The buttons survive whatever was cut: a request nobody can answer is no request.
      expect((blocks as Block[]).some((b) => b.type === "actions")).toBe(true);
    }), { numRuns: 150 });
  });
});
