import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/core/sop/parse-manifest.ts";

const basic = readFileSync(new URL("../fixtures/manifest/basic.toml", import.meta.url), "utf8");

/** What must hold for any input: an answer, never a throw, and every diagnostic locatable. */
function checkAnswer(toml: string): void {
  const { manifest, diagnostics } = parseManifest(toml, "SOP.toml");
  const lines = toml.split(/\r\n|\n|\r/).length;
  for (const d of diagnostics) {
    expect(d.file).toBe("SOP.toml");
    expect(["error", "warning"]).toContain(d.severity);
    expect(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1).toBe(true);
    expect(d.message.trim()).not.toBe("");
    expect(d.code).not.toBe("");
  }
  expect(manifest !== undefined).toBe(!diagnostics.some((d) => d.severity === "error"));
}

const TOKENS = ["[", "]", "[[", "]]", "{", "}", "=", ",", ".", '"', "'", '"""', "#", "\n", " ", "\u0000", "\uFEFF",
  "sop", "name", "description", "priority", "triggers", "gates", "vars", "type", "cron", "pattern", "pre_x",
  '"x"', '"high"', "1", "-1", "1.5", "nan", "inf", "true", "1979-05-27", "07:32:00", "0x1F", "[]", "{}"];

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((tokens) => tokens.join(""));

type Edit = { at: number; remove: number; insert: string };

const edit: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat({ max: basic.length }),
  remove: fc.nat({ max: 12 }),
  insert: fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), fc.constantFrom(...TOKENS)),
});

function applyEdits(text: string, edits: readonly Edit[]): string {
  return edits.reduce((out, { at, remove, insert }) => {
    const i = Math.min(at, out.length);
    return out.slice(0, i) + insert + out.slice(i + remove);
  }, text);
}

// Line-level changes keep the TOML readable more often, so validation (not just syntax) is exercised.
const VALUES = ['"urgent"', "0", "-5", "2.5", "true", '["a", 1]', "{ a = 1 }", "1979-05-27", '""', '"/abs"', '"(("', '"* *"'];
const lineEdit = fc.record({
  line: fc.nat({ max: 60 }),
  kind: fc.constantFrom("drop", "duplicate", "revalue"),
  value: fc.constantFrom(...VALUES),
});

function applyLineEdits(text: string, edits: readonly { line: number; kind: string; value: string }[]): string {
  const lines = text.split("\n");
  for (const { line, kind, value } of edits) {
    const i = line % lines.length;
    const current = lines[i] ?? "";
    if (kind === "drop") lines.splice(i, 1);
    else if (kind === "duplicate") lines.splice(i, 0, current);
    else lines[i] = current.replace(/=.*$/, `= ${value}`);
  }
  return lines.join("\n");
}

describe("parseManifest on arbitrary input", () => {
  it("answers random strings with locatable diagnostics", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), checkAnswer), { numRuns: 300 });
  });

  it("answers TOML-shaped token soup with locatable diagnostics", () => {
    fc.assert(fc.property(tokenSoup, checkAnswer), { numRuns: 500 });
  });

  it("answers character-level mutations of basic.toml with locatable diagnostics", () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => checkAnswer(applyEdits(basic, edits))),
      { numRuns: 500 },
    );
  });

  it("answers line-level mutations of basic.toml with locatable diagnostics", () => {
    fc.assert(
      fc.property(fc.array(lineEdit, { minLength: 1, maxLength: 6 }), (edits) => checkAnswer(applyLineEdits(basic, edits))),
      { numRuns: 500 },
    );
  });
});
