import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseProcedure } from "../../src/core/sop/parse-procedure.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/procedure/${name}.md`, import.meta.url), "utf8");
const valid = [fixture("basic"), fixture("evil"), fixture("zeroclaw")];
const pieces = ["[", "]", '"', "'", "```", "~~~", "**", "\n", "1. ", "3) ", "- ", "> ", "   ", "## Steps\n", "(", ")", ",", ":", "if:", "\t", "\r", "\u0000", "\\"];

/** What every caller relies on, whatever SOP.md holds. */
function wellFormed(markdown: string): void {
  const { steps, diagnostics } = parseProcedure(markdown, "SOP.md");
  expect(Array.isArray(steps)).toBe(true);
  expect(Array.isArray(diagnostics)).toBe(true);
  const lines = markdown.split(/\r\n|\r|\n/).length;
  for (const d of diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.file).toBe("SOP.md");
    expect(d.message).not.toBe("");
  }
  steps.forEach((step, index) => {
    expect(step.number).toBe(index + 1);
    expect(step.line).toBeGreaterThanOrEqual(1);
    expect(step.retries).toBeGreaterThanOrEqual(0);
  });
}

const at = fc.double({ min: 0, max: 1, noNaN: true });
const edit = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at, text: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })) }),
  fc.record({ kind: fc.constant("delete" as const), at, length: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), at, length: fc.integer({ min: 1, max: 12 }) }),
);

function apply(text: string, e: typeof edit extends fc.Arbitrary<infer E> ? E : never): string {
  const i = Math.floor(e.at * text.length);
  switch (e.kind) {
    case "insert":
      return text.slice(0, i) + e.text + text.slice(i);
    case "delete":
      return text.slice(0, i) + text.slice(i + e.length);
    case "duplicate":
      return text.slice(0, i + e.length) + text.slice(i, i + e.length) + text.slice(i + e.length);
  }
}

describe("parseProcedure on random input", () => {
  it("never throws on any string and locates every diagnostic inside the text", () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), wellFormed), { numRuns: 300 });
  });

  it("never throws on strings built from Markdown's and the attribute syntax's own characters", () => {
    const markdownish = fc.array(fc.constantFrom(...pieces, "a", "x", "**T**", " "), { maxLength: 80 }).map((parts) => parts.join(""));
    fc.assert(fc.property(markdownish, (md) => wellFormed(`## Steps\n${md}`)), { numRuns: 300 });
  });

  it("never throws when a valid SOP.md has characters inserted, deleted or duplicated", () => {
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 8 }))
      .map(([text, edits]) => edits.reduce(apply, text));
    // Each run parses a whole fixture (about 4 ms): 500 runs were the costliest test of test/core.
    // 250 still try each fixture about 80 times per run, and every run draws a new seed.
    fc.assert(fc.property(mutated, wellFormed), { numRuns: 250 });
  });
});
