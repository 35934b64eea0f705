import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CappedOutput } from "../../src/exec/capped-output.ts";

function collect(chunks: ReadonlyArray<string | Uint8Array>, capBytes: number, secrets: string[] = []): string {
  const output = new CappedOutput({ capBytes, secrets });
  for (const chunk of chunks) output.write(chunk);
  return output.finish();
}

const MARKER = /\n… \[(\d+) bytes omitted\] …\n/;

describe("CappedOutput", () => {
  it("keeps output under the cap unchanged", () => {
    expect(collect(["hello ", Buffer.from("world\n")], 64)).toBe("hello world\n");
  });

  it("adds no marker when the output fills the cap exactly", () => {
    expect(collect(["0123456789"], 10)).toBe("0123456789");
  });

  it("keeps the first and last half of the cap with a marker counting the bytes between", () => {
    expect(collect(["0123456789abcdefghij"], 10)).toBe("01234\n… [10 bytes omitted] …\nfghij");
  });

  it("keeps the latest bytes when many small writes wrap the tail around", () => {
    const output = new CappedOutput({ capBytes: 10 });
    for (const letter of "abcdefghijklmnopqrstuvwxyz") output.write(letter);
    expect(output.finish()).toBe("abcde\n… [16 bytes omitted] …\nvwxyz");
    expect(output.omittedBytes).toBe(16);
  });

  it("decodes a character split across two chunks", () => {
    const euro = Buffer.from("€");
    expect(collect([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)], 64)).toBe("€");
  });

  it("cuts the head and tail on character boundaries and counts the cut bytes as omitted", () => {
    // 10 bytes of head room: "ab" and two euros (8 bytes) fit, the third would straddle the cut.
    const text = "ab€€€€€€€€€€cd";
    const rendered = collect([text], 20);
    const match = MARKER.exec(rendered);
    expect(match).not.toBeNull();
    expect(rendered).not.toContain("\uFFFD");
    const head = rendered.slice(0, match?.index);
    const tail = rendered.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
    expect(head).toBe("ab€€");
    // The tail gets the 2 bytes the head left unused: 12 bytes, the first a stray continuation byte.
    expect(tail).toBe("€€€cd");
    expect(Buffer.byteLength(head) + Buffer.byteLength(tail) + Number(match?.[1])).toBe(Buffer.byteLength(text));
  });

  it("renders only the marker when the cap is zero", () => {
    expect(collect(["abc"], 0)).toBe("\n… [3 bytes omitted] …\n");
  });

  it("redacts a secret split across chunks before capping", () => {
    expect(collect(["key=hun", "ter2\n"], 64, ["hunter2"])).toBe("key=***\n");
  });

  it("keeps a prefix and a suffix of any text, whole characters only, and accounts for every byte", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "€", "🔑", "\n"), maxLength: 80 });
    fc.assert(
      fc.property(text, fc.nat(60), fc.array(fc.nat(320)), (input, cap, cuts) => {
        const bytes = Buffer.from(input);
        const points = [...new Set(cuts.filter((c) => c <= bytes.length))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((from, i) => bytes.subarray(from, points[i] ?? bytes.length));
        const rendered = collect(chunks, cap);
        if (bytes.length <= cap) {
          expect(rendered).toBe(input);
          return;
        }
        const match = MARKER.exec(rendered);
        expect(match).not.toBeNull();
        const head = rendered.slice(0, match?.index);
        const tail = rendered.slice((match?.index ?? 0) + (match?.[0].length ?? 0));
        expect(input.startsWith(head)).toBe(true);
        expect(input.endsWith(tail)).toBe(true);
        expect(Buffer.byteLength(head)).toBeLessThanOrEqual(Math.floor(cap / 2));
        expect(Buffer.byteLength(head) + Buffer.byteLength(tail)).toBeLessThanOrEqual(cap);
        expect(Buffer.byteLength(head) + Buffer.byteLength(tail) + Number(match?.[1])).toBe(bytes.length);
      }),
      { numRuns: 1000 },
    );
  });

  it("rejects a negative cap", () => {
    expect(() => new CappedOutput({ capBytes: -1 })).toThrow(RangeError);
  });
});
