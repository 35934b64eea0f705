/** What every `MessageLedger` must do: keep what was posted per run and platform, and hand a run to one claimant. */
import { describe, expect, it } from "vitest";
import type { LedgerEntry, MessageLedger } from "../../src/ports/message-ledger.ts";
import { until } from "../helpers/until.ts";

/**
 * `advance` moves the time claims expire by, for a ledger on an injected clock; without it (Redis
 * expires keys on its own clock) the contract waits for the expiry to be seen.
 */
export type OpenLedger = () => Promise<{ ledger: MessageLedger; close: () => Promise<void>; advance?: (ms: number) => Promise<void> }>;

const entry = (id: string): LedgerEntry => ({ channels: { C1: { messages: { progress: { id, digest: "d1" } } } } });

export function messageLedgerContract(driver: string, open: OpenLedger): void {
  describe(`MessageLedger contract (${driver})`, () => {
    it("keeps each run's messages per platform and survives a reopen", async () => {
      const first = await open();
      expect(await first.ledger.get("slack", "run-1")).toBeUndefined();
      await first.ledger.put("slack", "run-1", entry("1700000000.000100"));
      await first.ledger.put("discord", "run-1", entry("998877"));
      await first.close();
      const again = await open();
      try {
        expect(await again.ledger.get("slack", "run-1")).toEqual(entry("1700000000.000100"));
        expect(await again.ledger.get("discord", "run-1")).toEqual(entry("998877"));
        expect(await again.ledger.get("slack", "run-2")).toBeUndefined();
      } finally {
        await again.close();
      }
    });

    it("lets one owner at a time claim a run, renews the owner's claim, and frees it on unclaim or expiry", async () => {
      const { ledger, close, advance } = await open();
      try {
        expect(await ledger.claim("slack", "run-c", "a", 5_000)).toBe(true);
        expect(await ledger.claim("slack", "run-c", "b", 5_000)).toBe(false);
        expect(await ledger.claim("slack", "run-c", "a", 5_000)).toBe(true);
        expect(await ledger.claim("discord", "run-c", "b", 5_000)).toBe(true);
        await ledger.unclaim("slack", "run-c", "b");
        expect(await ledger.claim("slack", "run-c", "b", 5_000)).toBe(false);
        await ledger.unclaim("slack", "run-c", "a");
        expect(await ledger.claim("slack", "run-c", "b", 50)).toBe(true);
        if (advance) {
          await advance(49);
          expect(await ledger.claim("slack", "run-c", "a", 5_000)).toBe(false);
          await advance(1);
          expect(await ledger.claim("slack", "run-c", "a", 5_000)).toBe(true);
        } else {
          await until("b's claim to expire, so that a may claim", () => ledger.claim("slack", "run-c", "a", 5_000), 2_000);
        }
      } finally {
        await close();
      }
    });
  });
}
