/** Key names of a deployment: one hash tag for all, so that a Redis Cluster keeps them in one slot. */
import { describe, expect, it } from "vitest";
import { keyPrefix, legacyPrefix, redisKeys } from "../../src/drivers/redis/redis-keys.ts";

describe("Redis key names", () => {
  it("wraps a prefix without a hash tag in one, and keeps one that has it", () => {
    expect(keyPrefix()).toBe("{sop}");
    expect(keyPrefix("sop")).toBe("{sop}");
    expect(keyPrefix("{sop}")).toBe("{sop}");
    expect(keyPrefix("acme:{sop}")).toBe("acme:{sop}");
    expect(keyPrefix("team-a:prod")).toBe("{team-a:prod}");
  });

  it("puts every key and the queue of a deployment under the tagged prefix", () => {
    const k = redisKeys("sop");
    const names = [
      k.run("r1"), k.claim("r1"), k.definition("ab"), k.sops, k.status("deploy", "queued"), k.line("deploy"), k.sealed("deploy"),
      k.blocked("deploy"), k.last("deploy"), k.chains, k.deadlines, k.chat("slack", "r1"), k.chatClaim("slack", "r1"), k.migration, k.migrationLock,
    ];
    expect(names.filter((name) => !name.startsWith("{sop}:"))).toEqual([]);
    expect(k.prefix).toBe("{sop}");
    expect(k.run("r1")).toBe("{sop}:run:r1");
  });

  it("names the bare prefix an earlier version used, only where there can have been one", () => {
    expect(legacyPrefix("sop")).toBe("sop");
    expect(legacyPrefix("{sop}")).toBe("sop");
    expect(legacyPrefix("acme:{sop}")).toBeUndefined();
  });

  it("refuses prefixes that would not share one slot or that glob patterns would misread", () => {
    for (const evil of ["", "{}", "a{b", "a}b", "{a}{b}", "a b", "sop*", "s?p", "[sop]"]) {
      expect(() => keyPrefix(evil), evil).toThrow(RangeError);
    }
  });
});
