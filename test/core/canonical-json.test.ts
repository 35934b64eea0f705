import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/core/audit/canonical-json.ts";

describe("canonicalJson", () => {
  it.each([
    ["null", null, "null"],
    ["booleans", [true, false], "[true,false]"],
    ["numbers as JSON.stringify prints them", [0, -0, 1.5, 1e21, -2e-7], "[0,0,1.5,1e+21,-2e-7]"],
    ["strings with escapes", "a\"b\\c\n\u0001", JSON.stringify("a\"b\\c\n\u0001")],
    ["an empty object and array", { a: {}, b: [] }, '{"a":{},"b":[]}'],
    ["arrays in their own order", [3, 1, 2], "[3,1,2]"],
    ["nested keys sorted at every level", { b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] }, '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}'],
  ])("encodes %s", (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it("sorts keys by UTF-16 code unit, not by locale or code point", () => {
    // "😀" is the surrogate pair D83D DE00, which sorts before U+FFFF by code unit only.
    const value = { "\uffff": 1, "😀": 2, b: 3, B: 4, é: 5, "": 6 };
    expect(canonicalJson(value)).toBe('{"":6,"B":4,"b":3,"é":5,"😀":2,"\uffff":1}');
  });

  it("omits undefined object members", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it("does not depend on the order keys were inserted in", () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  it("keeps an own __proto__ key as data", () => {
    const evil: unknown = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    expect(canonicalJson(evil)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it("accepts the same object reached twice without a cycle", () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"k":1},"b":[{"k":1}]}');
  });

  it.each([
    ["NaN", { n: Number.NaN }, "$.n is NaN"],
    ["Infinity", [1, Number.POSITIVE_INFINITY], "$[1] is Infinity"],
    ["a function", { f: () => 1 }, "$.f is a function"],
    ["a bigint", { "odd key": 1n }, '$["odd key"] is a bigint'],
    ["a symbol", { s: Symbol("x") }, "$.s is a symbol"],
    ["undefined in an array", [undefined], "$[0] is a undefined"],
    ["undefined at the top", undefined, "$ is a undefined"],
    ["a Date", { at: new Date(0) }, "$.at is a Date"],
    ["a Map", { m: new Map() }, "$.m is a Map"],
  ])("throws a TypeError naming the place of %s", (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it("throws a TypeError on a cycle", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = { back: loop };
    expect(() => canonicalJson(loop)).toThrow(/\$\.self\.back refers back to itself/);
  });

  it("is valid JSON that parses back to the same value and re-encodes identically", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJson(JSON.parse(JSON.stringify(value, null, 2)))).toBe(text);
      }),
    );
  });
});
