import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StreamRedactor, redactText } from "../../src/exec/redact.ts";

function streamed(chunks: readonly string[], secrets: readonly string[]): string {
  const redactor = new StreamRedactor(secrets);
  return chunks.map((chunk) => redactor.push(chunk)).join("") + redactor.flush();
}

/** Brute force: a covered character joins the previous one's marker when one occurrence spans both. */
function reference(text: string, secrets: readonly string[]): string {
  const hits: Array<[number, number]> = [];
  for (const s of secrets) {
    for (let i = 0; s !== "" && i < text.length; i++) if (text.startsWith(s, i)) hits.push([i, i + s.length]);
  }
  const covers = (i: number, j: number): boolean => hits.some(([a, b]) => a <= i && j < b);
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (!covers(i, i)) out += text.charAt(i);
    else if (i === 0 || !covers(i - 1, i)) out += "***";
  }
  return out;
}

describe("redactText", () => {
  it("replaces every occurrence of every secret", () => {
    expect(redactText("token=s3cr3t, again s3cr3t; pw hunter2", ["s3cr3t", "hunter2"])).toBe(
      "token=***, again ***; pw ***",
    );
  });

  it("prefers the longest secret when one contains another", () => {
    expect(redactText("abcdef and abc", ["abc", "abcdef"])).toBe("*** and ***");
  });

  it("masks overlapping secrets as one stretch so no fragment survives", () => {
    expect(redactText("xabcdefy", ["abcd", "cdef"])).toBe("x***y");
    expect(redactText("aaaa", ["aa"])).toBe("***");
  });

  it("keeps adjacent occurrences as separate markers", () => {
    expect(redactText("abab", ["ab"])).toBe("******");
  });

  it("redacts secrets shorter than four characters", () => {
    expect(redactText("id=42 x=7", ["42", "7"])).toBe("id=*** x=***");
  });

  it("ignores empty secrets", () => {
    expect(redactText("nothing to hide", ["", ""])).toBe("nothing to hide");
    expect(redactText("", ["abc"])).toBe("");
  });

  it("treats secrets as literal text, not patterns", () => {
    expect(redactText("a.b*c and axbbc", ["a.b*c"])).toBe("*** and axbbc");
  });

  it("handles secrets with multi-byte characters", () => {
    expect(redactText("pässwörd→🔑!", ["wörd→🔑"])).toBe("päss***!");
  });
});

describe("StreamRedactor", () => {
  it("redacts a secret split across two chunks", () => {
    expect(streamed(["token: abc", "def\n"], ["abcdef"])).toBe("token: ***\n");
  });

  it("redacts a secret split into single characters", () => {
    expect(streamed("say hunter2 twice: hunter2".split(""), ["hunter2"])).toBe("say *** twice: ***");
  });

  it("releases text promptly when it cannot be part of a secret", () => {
    const redactor = new StreamRedactor(["abcd"]);
    expect(redactor.push("hello world")).toBe("hello wo");
    expect(redactor.push("!")).toBe("r");
    expect(redactor.flush()).toBe("ld!");
  });

  it("passes text straight through without secrets", () => {
    const redactor = new StreamRedactor([]);
    expect(redactor.push("abc")).toBe("abc");
    expect(redactor.flush()).toBe("");
  });

  it("matches a brute-force reference however the text is chunked", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "b", "c", "-"), maxLength: 60 });
    const secret = fc.string({ unit: fc.constantFrom("a", "b", "c"), minLength: 0, maxLength: 5 });
    fc.assert(
      fc.property(text, fc.array(secret, { maxLength: 4 }), fc.array(fc.nat(60)), (input, secrets, cuts) => {
        const points = [...new Set(cuts.filter((c) => c <= input.length))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((from, i) => input.slice(from, points[i] ?? input.length));
        const whole = redactText(input, secrets);
        expect(whole).toBe(reference(input, secrets));
        expect(streamed(chunks, secrets)).toBe(whole);
        for (const s of secrets) if (s !== "") expect(whole).not.toContain(s);
      }),
      { numRuns: 2000 },
    );
  });
});
