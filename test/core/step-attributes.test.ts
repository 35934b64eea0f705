import { describe, expect, it } from "vitest";
import { looksLikeAttributeGroup, parseAttributeGroup, unquote } from "../../src/core/sop/step-attributes.ts";

/** Each attribute as `key@offset=raw@offset`, so a test shows text and columns at a glance. */
const tokens = (text: string, start = text.indexOf("[")) =>
  parseAttributeGroup(text, start).attributes.map((a) => `${a.key}@${a.keyOffset}=${a.raw}@${a.rawOffset}`);
const errors = (text: string, start = text.indexOf("[")) =>
  parseAttributeGroup(text, start).errors.map((e) => `${e.offset}: ${e.message}`);

describe("parseAttributeGroup", () => {
  it("splits key: value pairs at top-level commas and reports where each key and value starts", () => {
    expect(tokens("[if: tests_pass, requires_approval: true]")).toEqual([
      "if@1=tests_pass@5",
      "requires_approval@17=true@36",
    ]);
  });

  it("reads the group at the offset it is given and ends just past its ]", () => {
    const text = "**Build** [timeout: 600] trailing";
    expect(parseAttributeGroup(text, 10)).toMatchObject({ start: 10, end: 24, errors: [] });
    expect(tokens(text)).toEqual(["timeout@11=600@20"]);
  });

  it("keeps commas and ] inside quoted strings, and commas inside parentheses, in one value", () => {
    expect(tokens('[if: a == "x, ]y" || (b, c), retries: 2]')).toEqual([
      'if@1=a == "x, ]y" || (b, c)@5',
      "retries@29=2@38",
    ]);
  });

  it("accepts single quotes and backslash-escaped quotes inside strings", () => {
    expect(tokens("[if: a == 'it\\'s, fine']")).toEqual(["if@1=a == 'it\\'s, fine'@5"]);
    expect(tokens('[if: a == "say \\"hi\\", ok"]')).toEqual(['if@1=a == "say \\"hi\\", ok"@5']);
  });

  it("gives the unquoted value beside the value as written", () => {
    const [flag, condition] = parseAttributeGroup('[manual: "true", if: "x"]', 0).attributes;
    expect(flag).toMatchObject({ raw: '"true"', value: "true" });
    expect(condition).toMatchObject({ raw: '"x"', value: "x" });
  });

  it("ends the group at ] even inside unbalanced parentheses, leaving the condition to name the missing )", () => {
    expect(parseAttributeGroup("[if: (a && b] rest", 0)).toMatchObject({ end: 13, errors: [] });
    expect(tokens("[if: (a && b] rest")).toEqual(["if@1=(a && b@5"]);
  });

  it("ignores an empty group and a trailing comma", () => {
    expect(parseAttributeGroup("[]", 0)).toMatchObject({ attributes: [], errors: [], end: 2 });
    expect(tokens("[always: true, ]")).toEqual(["always@1=true@9"]);
  });

  it("reports a group that is never closed at its [", () => {
    expect(errors("**A** [if: ready")).toEqual(['6: unbalanced "[": the attribute group is never closed; end it with "]"']);
    expect(parseAttributeGroup("**A** [if: ready", 6).end).toBe(16);
  });

  it("reports an unterminated string at its opening quote", () => {
    expect(errors('[if: a == "x]')).toEqual(['10: unterminated string: the " opened here is never closed']);
  });

  it("reports a pair without a colon, a missing name, a bad name and an empty value, and still reads the rest", () => {
    const group = parseAttributeGroup("[timeout 5, : x, time out: 1, if: , always: true]", 0);
    expect(group.errors.map((e) => `${e.offset}: ${e.message}`)).toEqual([
      '1: expected "key: value" in the attribute group, got "timeout 5"',
      '12: missing attribute name before ":"',
      '17: "time out" is not an attribute name; use letters, digits, "_" and "-"',
      '30: attribute "if" has no value',
    ]);
    expect(group.attributes.map((a) => a.key)).toEqual(["always"]);
  });

  it("keeps duplicate keys for the caller to judge", () => {
    expect(tokens("[always: true, always: false]")).toEqual(["always@1=true@9", "always@15=false@23"]);
  });

  it("shortens pasted junk in its messages", () => {
    const [error] = parseAttributeGroup(`[${"x".repeat(500)}]`, 0).errors;
    expect(error?.message.length).toBeLessThan(100);
  });

  it("reads a megabyte-long group", () => {
    const text = `[${"a: b, ".repeat(150_000)}]`;
    expect(parseAttributeGroup(text, 0).attributes).toHaveLength(150_000);
  });
});

describe("looksLikeAttributeGroup", () => {
  it("recognises [key: at the given index and nothing else", () => {
    expect(looksLikeAttributeGroup("x [if: a]", 2)).toBe(true);
    expect(looksLikeAttributeGroup("x [ requires_approval :true]", 2)).toBe(true);
    expect(looksLikeAttributeGroup("x [if: a]", 0)).toBe(false);
    expect(looksLikeAttributeGroup("[see the docs]", 0)).toBe(false);
    expect(looksLikeAttributeGroup("[1: x]", 0)).toBe(false);
  });
});

describe("unquote", () => {
  it("strips the quotes of exactly one quoted string and resolves its escapes", () => {
    expect(unquote('"a \\"b\\""')).toBe('a "b"');
    expect(unquote("'x'")).toBe("x");
    expect(unquote('"a" == "b"')).toBe('"a" == "b"');
    expect(unquote('"open')).toBe('"open');
    expect(unquote("plain")).toBe("plain");
  });
});
