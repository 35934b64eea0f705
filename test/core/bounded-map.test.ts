import { describe, expect, it } from "vitest";
import { setNewest } from "../../src/core/bounded-map.ts";

describe("setNewest", () => {
  it("keeps the newest entries up to the bound, and setting a key again makes it the newest", () => {
    const map = new Map<string, number>();
    for (const [i, key] of ["a", "b", "c"].entries()) setNewest(map, key, i, 3);
    setNewest(map, "a", 10, 3);
    setNewest(map, "d", 4, 3);
    expect([...map]).toEqual([["c", 2], ["a", 10], ["d", 4]]);
  });
});
