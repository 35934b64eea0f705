import { describe, expect, it } from "vitest";
import { actorForToken, authenticate, generateToken } from "../../src/http/auth.ts";

const tokens = new Map([["alice", "s3cret-alice"], ["ci", "s3cret-ci"]]);

describe("bearer tokens", () => {
  it.each([
    ["Bearer s3cret-alice", "api:alice"],
    ["bearer s3cret-ci", "api:ci"],
    ["Bearer  s3cret-ci ", "api:ci"],
    ["Bearer s3cret-alic", undefined],
    ["Bearer s3cret-alice-and-more", undefined],
    ["Basic s3cret-alice", undefined],
    ["s3cret-alice", undefined],
    ["Bearer ", undefined],
    ["Bearer a b", undefined],
    [undefined, undefined],
  ])("%j names %s", (header, actor) => {
    expect(authenticate(tokens, header)).toBe(actor);
  });

  it("compares raw tokens too, for the web UI's login", () => {
    expect(actorForToken(tokens, "s3cret-ci")).toBe("api:ci");
    expect(actorForToken(tokens, "")).toBeUndefined();
    expect(actorForToken(new Map(), "anything")).toBeUndefined();
  });

  it("generates URL-safe tokens of 256 bits that differ every time", () => {
    const a = generateToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
  });
});
