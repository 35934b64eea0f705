/** An approval request as a Discord embed: whatever it lets run and however the SOP changed, Discord never refuses it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS, renderMessage } from "../../../adapters/discord/render-message.ts";
import { fencesBalanced, requestMessage } from "../../chat/request-arbitraries.ts";

describe("an approval request in Discord", () => {
  it("keeps every embed limit (4096, 1024, 25 fields, 6000 in all) and closes a code block it cuts, whatever the request (property)", () => {
    fc.assert(fc.property(requestMessage, (m) => {
      const body = renderMessage(m, { ping: true });
      const [embed] = body.embeds;
      const fields = embed!.fields ?? [];
      expect(embed!.title?.length ?? 0).toBeLessThanOrEqual(LIMITS.title);
      expect(embed!.description?.length ?? 0).toBeLessThanOrEqual(LIMITS.description);
      expect(fencesBalanced(embed!.description ?? "")).toBe(true);
      expect(fields.length).toBeLessThanOrEqual(LIMITS.fields);
      for (const f of fields) {
        expect(f.name.length).toBeLessThanOrEqual(LIMITS.fieldName);
        expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
      }
      const total = (embed!.title?.length ?? 0) + (embed!.description?.length ?? 0) + (embed!.footer?.text.length ?? 0) + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
      expect(total).toBeLessThanOrEqual(LIMITS.total);
      expect((body.content ?? "").length).toBeLessThanOrEqual(LIMITS.content);
      expect(body.components[0]?.components.map((b) => b.label)).toEqual(["Approve", "Deny"]);
    }), { numRuns: 150 });
  });
});
