import { readFileSync } from "node:fs";
import fc from "fast-check";
import remarkParse from "remark-parse";
import { unified } from "unified";
import { describe, expect, it } from "vitest";
import { markdownBudget } from "../../src/core/sop/markdown-budget.ts";
import { MARKDOWN_LIMITS } from "../../src/core/sop/markdown-limits.ts";
import { parseProcedure } from "../../src/core/sop/parse-procedure.ts";
import { parseSop } from "../../src/core/sop/parse-sop.ts";
import { countedTextProblem, PROCEDURE_LIMITS, textProblem, type ProcedureLimits } from "../../src/core/sop/procedure-limits.ts";
import type { Diagnostic } from "../../src/core/sop/types.ts";
import { SHAPE_NAMES, pathologicalMarkdown } from "../chaos/pathological-markdown.ts";
import { OUTCOMES_AT_THE_CAP } from "../chaos/shape-outcomes.ts";
import {
  blocksRefusal,
  bracketsRefusal,
  definitionsRefusal,
  emphasisRefusal,
  inlineRefusal,
  LIMIT_CODES,
  linesRefusal,
  nestingRefusal,
  outcomeOf,
  PARSES,
  setextRefusal,
  shown,
  unclosedRefusal,
} from "../helpers/parse-refusals.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/procedure/${name}.md`, import.meta.url), "utf8");
/** Everything but the notes on metadata bullets (`- owner: …`), which have no effect and say so. */
const beyondBullets = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.code !== "bullet-without-effect");
const lines = (count: number, line: string) => Array.from({ length: count }, () => line).join("\n");

/**
 * About a thirtieth of the product's limits, for SOP.md files of about a thirtieth of its 256 KiB
 * cap. Each limit is counted and refused the same way whatever its number, so the most allowed,
 * one more, and every pathological shape are tried here in milliseconds; at the product's limits
 * they take seconds each, which is for `npm run bench -- parse-limits` (time) and the parser
 * scenario of `npm run chaos` (time, and the outcomes in test/chaos/shape-outcomes.ts).
 */
const SMALL: ProcedureLimits = {
  text: { lines: 300, indentColumns: 60, markersOnALine: 12 },
  markdown: {
    emphasis: { paragraph: 25, file: 300 },
    brackets: { paragraph: 25, file: 300 },
    lookahead: { file: 30_000 },
    inline: { paragraph: 120, file: 600 },
    blocks: { file: 120 },
    nesting: { file: 300 },
    setext: { file: 3 },
    definitions: { file: 6 },
  },
};
const SMALL_CAP_BYTES = 8 * 1024;

/** The refusals for being past a limit, as shown; [] when the text is within every limit. */
const refusals = (md: string, limits = SMALL) =>
  parseProcedure(md, "SOP.md", { limits }).diagnostics.filter((d) => LIMIT_CODES.has(d.code)).map(shown);
const errors = (md: string) => parseProcedure(md, "SOP.md").diagnostics.filter((d) => d.severity === "error").map(shown);

describe("the product's limits", () => {
  it("are these numbers, and they are what parseSop (so every catalog) parses with", () => {
    expect(PROCEDURE_LIMITS).toEqual({
      text: { lines: 10_000, indentColumns: 200, markersOnALine: 40 },
      markdown: {
        emphasis: { paragraph: 200, file: 10_000 },
        brackets: { paragraph: 200, file: 10_000 },
        lookahead: { file: 1_000_000 },
        inline: { paragraph: 1_000, file: 20_000 },
        blocks: { file: 4_000 },
        nesting: { file: 10_000 },
        setext: { file: 20 },
        definitions: { file: 200 },
      },
    });
    const toml = '[sop]\nname = "big"\ndescription = "d"\nversion = "1"\n';
    const sop = (markdown: string) => parseSop({ folder: "big", tomlFile: "SOP.toml", toml, mdFile: "SOP.md", markdown }).diagnostics.map(shown);
    const step = "## Steps\n\n1. **A**\n\n";
    // One limit that remark counts and one on the text, at their edges: cheap to reach at the real numbers.
    expect(sop(`${step}   ${"*a ".repeat(200)}\n`)).toEqual([]);
    expect(sop(`${step}   ${"*a ".repeat(201)}\n`)).toEqual([`SOP.md:5:604: ${emphasisRefusal("this paragraph", 200)}`]);
    expect(sop(`${step}${" ".repeat(200)}a\n`)).toEqual([]);
    expect(sop(`${step}${" ".repeat(201)}a\n`)).toEqual(["SOP.md:5:1: line is indented 201 columns; SOP.md nesting is limited to 200 columns"]);
    expect(sop("a\n".repeat(10_001))).toEqual([linesRefusal(10_001, 10_000)]);
  });
});

describe("the issue's input: 20,000 '*', 'x', 20,000 '*' on one line", () => {
  const issue = `${"*".repeat(20_000)}x${"*".repeat(20_000)}`;

  it("is refused at once, at the first run, saying what to change", () => {
    expect(parseProcedure(issue, "sops/chaos/SOP.md").diagnostics.map(shown)).toEqual([`sops/chaos/SOP.md:1:1: ${emphasisRefusal("this paragraph", 200)}`]);
  });

  it("is refused in a step title, at the run's column", () => {
    expect(refusals(`## Steps\n\n1. **Deploy** ${issue}\n`, PROCEDURE_LIMITS)).toEqual([`SOP.md:3:15: ${emphasisRefusal("this paragraph", 200)}`]);
  });
});

describe("real-world SOPs are never refused", () => {
  it.each([
    ["bold-titles-and-emphasis", 7],
    ["underscores-and-globs", 4],
    ["long-scripts", 2],
    ["basic", 5],
    ["evil", 3],
    ["zeroclaw", 2],
  ])("%s.md reads without a diagnostic beyond its metadata bullets", (name, count) => {
    const { steps, diagnostics } = parseProcedure(fixture(name), "SOP.md");
    expect(beyondBullets(diagnostics)).toEqual([]);
    expect(steps).toHaveLength(count);
  });

  it("keeps every star, underscore and bracket of a long script", () => {
    const [exportStep] = parseProcedure(fixture("long-scripts"), "SOP.md").steps;
    expect(exportStep?.commands[0]).toContain("*** export summary ***\n_field_      | __value__\n**products** | see $out");
    expect(exportStep?.commands[0]).toContain("sed -E 's/\\*\\*([^*]+)\\*\\*/\\1/g; s/_([a-z]+)_/\\1/g'");
  });

  it("reads 500 steps of bold titles and emphasis, a very big real SOP, without an error", () => {
    const steps = fixture("bold-titles-and-emphasis").split("## Steps\n\n")[1]!.split(/\n\n(?=\d+\. )/);
    const many = Array.from({ length: 500 }, (_, i) => steps[i % steps.length]!.replace(/^\d+\./, `${i + 1}.`).replace(/\n {3}/g, `\n${" ".repeat(String(i + 1).length + 2)}`));
    const parsed = parseProcedure(`# Drill\n\n## Steps\n\n${many.join("\n\n")}\n`, "SOP.md");
    expect(parsed.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(parsed.steps).toHaveLength(500);
    expect(parsed.steps.slice(497).map((s) => s.title)).toEqual(["Announce the drill", "Check replication lag", "Freeze writes"]);
  });

  // An ordinary SOP.md as big as the cap (it uses about half of each limit) is read by the parser
  // scenario of npm run chaos, which loads it at every size, so npm test reads it too: parsing
  // 256 KiB takes a second or two on two shared cores, too slow for these tests.

  it("never counts code, escaped markers, an intraword _ or a lone * as emphasis", () => {
    // Each line holds more than the 200 emphasis markers one paragraph may have, were they counted.
    const step = "## Steps\n\n1. **A**\n\n";
    expect(errors(`${step}   \`${"*_[".repeat(1_000)}\`\n`)).toEqual([]);
    expect(errors(`${step}   \`\`\`bash\n   ${"ls **/*_old_*[0-9] ".repeat(2_000)}\n   \`\`\`\n`)).toEqual([]);
    expect(errors(`${step}   ${"\\* \\_ ".repeat(300)}\n`)).toEqual([]);
    expect(errors(`${step}   ${"SOP_VAR_NAME ".repeat(300)}\n`)).toEqual([]);
    expect(errors(`${step}   ${"a * b _ c ".repeat(300)}\n`)).toEqual([]);
  });
});

describe("each limit, at its edge (small limits)", () => {
  const step = "## Steps\n\n1. A\n\n";

  it.each([
    ["emphasis in one paragraph", `${step}   ${"*a ".repeat(25)}\n`, `${step}   ${"*a ".repeat(26)}\n`, `SOP.md:5:79: ${emphasisRefusal("this paragraph", 25)}`],
    ["emphasis in the file", `${step}${`   ${"*a ".repeat(25)}\n\n`.repeat(12)}`, `${step}${`   ${"*a ".repeat(25)}\n\n`.repeat(12)}   *a\n`, `SOP.md:29:4: ${emphasisRefusal("SOP.md", 300)}`],
    ["brackets in one paragraph", `${step}   ${"[".repeat(25)}\n`, `${step}   ${"[".repeat(26)}\n`, `SOP.md:5:29: ${bracketsRefusal("this paragraph", 25)}`],
    ["brackets in the file", `${step}${`   ${"[".repeat(25)}\n\n`.repeat(12)}`, `${step}${`   ${"[".repeat(25)}\n\n`.repeat(12)}   [\n`, `SOP.md:29:4: ${bracketsRefusal("SOP.md", 300)}`],
    ["inline Markdown in one paragraph", `${step}   ${"\\*".repeat(120)}\n`, `${step}   ${"\\*".repeat(121)}\n`, `SOP.md:5:244: ${inlineRefusal("this paragraph", 120)}`],
    ["inline Markdown in the file", `${step}${`   ${"\\*".repeat(120)}\n\n`.repeat(5)}`, `${step}${`   ${"\\*".repeat(120)}\n\n`.repeat(5)}   \\*\n`, `SOP.md:15:4: ${inlineRefusal("SOP.md", 600)}`],
    [
      "text read again after unclosed HTML",
      `${step}   x ${"<!-- ".repeat(3)}${"a".repeat(9_000)}\n`,
      `${step}   x ${"<!-- ".repeat(4)}${"a".repeat(9_000)}\n`,
      `SOP.md:5:21: ${unclosedRefusal(30_000)}`,
    ],
    ["blocks", `## Steps\n\n${"1. **S**\n".repeat(59)}`, `## Steps\n\n${"1. **S**\n".repeat(60)}`, `SOP.md:62:4: ${blocksRefusal(120)}`],
    ["nesting", lines(151, "> > a"), lines(152, "> > a"), `SOP.md:152:1: ${nestingRefusal(300)}`],
    ["underlined headings", `${step}${"a\n=\n\n".repeat(3)}`, `${step}${"a\n=\n\n".repeat(4)}`, `SOP.md:15:1: ${setextRefusal(3)}`],
    [
      "link definitions",
      `${step}${Array.from({ length: 6 }, (_, i) => `[d${i}]: u\n`).join("")}`,
      `${step}${Array.from({ length: 7 }, (_, i) => `[d${i}]: u\n`).join("")}`,
      `SOP.md:11:1: ${definitionsRefusal(6)}`,
    ],
    ["lines", "a\n".repeat(300), "a\n".repeat(301), linesRefusal(301, 300)],
    ["indentation", `${step}${" ".repeat(60)}a\n`, `${step}${" ".repeat(61)}a\n`, "SOP.md:5:1: line is indented 61 columns; SOP.md nesting is limited to 60 columns"],
    ["markers on a line", `${step}${"- ".repeat(12)}a\n`, `${step}${"- ".repeat(13)}a\n`, "SOP.md:5:1: line opens 13 nested lists or quotes; SOP.md allows at most 12 on one line"],
  ])("%s: the most allowed parses, one more is refused where it passes the limit", (_name, most, past, refusal) => {
    expect(refusals(most)).toEqual([]);
    expect(refusals(past)).toEqual([refusal]);
  });

  it("counts a lone CR as a line ending, as remark does, so nesting cannot hide behind one", () => {
    expect(refusals(`## Steps\n1. x\r${"- ".repeat(13)}x\n`)).toEqual(["SOP.md:3:1: line opens 13 nested lists or quotes; SOP.md allows at most 12 on one line"]);
    expect(refusals(`## Steps\n1. x\r${"a\r".repeat(300)}`)).toEqual([linesRefusal(302, 300)]);
  });
});

/** Every pathological shape made against the small limits: parsed within them, or refused with one located error. */
const OUTCOMES: Record<string, string> = {
  "nested-stars": `SOP.md:1:1: ${emphasisRefusal("this paragraph", 25)}`,
  "nested-stars-in-a-title": `SOP.md:5:13: ${emphasisRefusal("this paragraph", 25)}`,
  "nested-star-underscore": `SOP.md:6:25: ${emphasisRefusal("this paragraph", 25)}`,
  "emphasis-paragraphs-200": `SOP.md:7:51: ${emphasisRefusal("this paragraph", 25)}`,
  "emphasis-paragraphs-1000": `SOP.md:7:51: ${emphasisRefusal("this paragraph", 25)}`,
  "unmatched-closers": `SOP.md:6:68: ${emphasisRefusal("this paragraph", 25)}`,
  "openers-then-other-closers": `SOP.md:6:67: ${emphasisRefusal("this paragraph", 25)}`,
  "rule-of-three": `SOP.md:6:55: ${emphasisRefusal("this paragraph", 25)}`,
  "paired-emphasis": `SOP.md:6:46: ${emphasisRefusal("this paragraph", 25)}`,
  "bold-in-one-paragraph": `SOP.md:6:34: ${emphasisRefusal("this paragraph", 25)}`,
  "intraword-underscores": `SOP.md:6:686: ${inlineRefusal("this paragraph", 120)}`,
  "longest-step": PARSES,
  "open-brackets": `SOP.md:6:29: ${bracketsRefusal("this paragraph", 25)}`,
  "bracket-words": `SOP.md:6:79: ${bracketsRefusal("this paragraph", 25)}`,
  "shortcut-references": `SOP.md:6:54: ${bracketsRefusal("this paragraph", 25)}`,
  "nested-brackets": `SOP.md:6:29: ${bracketsRefusal("this paragraph", 25)}`,
  "nested-links": `SOP.md:6:29: ${bracketsRefusal("this paragraph", 25)}`,
  "unclosed-link-destinations": `SOP.md:6:54: ${bracketsRefusal("this paragraph", 25)}`,
  "label-ends": `SOP.md:6:54: ${bracketsRefusal("this paragraph", 25)}`,
  "images": `SOP.md:6:54: ${bracketsRefusal("this paragraph", 25)}`,
  "inline-links": `SOP.md:6:90: ${bracketsRefusal("this paragraph", 25)}`,
  "destination-parentheses": PARSES,
  "definitions": linesRefusal(1_171, 300),
  "definitions-and-references": linesRefusal(426, 300),
  "angle-brackets": `SOP.md:6:124: ${inlineRefusal("this paragraph", 120)}`,
  "html-tags": `SOP.md:6:360: ${inlineRefusal("this paragraph", 120)}`,
  "html-comments": `SOP.md:6:21: ${unclosedRefusal(30_000)}`,
  "processing-instructions": `SOP.md:6:15: ${unclosedRefusal(30_000)}`,
  "declarations": `SOP.md:6:18: ${unclosedRefusal(30_000)}`,
  "cdata": `SOP.md:6:36: ${unclosedRefusal(30_000)}`,
  "html-attribute-quotes": `SOP.md:6:832: ${inlineRefusal("this paragraph", 120)}`,
  "autolinks": `SOP.md:6:1068: ${inlineRefusal("this paragraph", 120)}`,
  "html-blocks": linesRefusal(2_336, 300),
  "backtick-runs": `SOP.md:6:13: ${unclosedRefusal(30_000)}`,
  "unmatched-code-spans": `SOP.md:6:1178: ${inlineRefusal("this paragraph", 120)}`,
  "one-backtick-run": PARSES,
  "paired-code-spans": `SOP.md:6:476: ${inlineRefusal("this paragraph", 120)}`,
  "fenced-code-lines": linesRefusal(1_635, 300),
  "script-lines": PARSES,
  "many-fences": linesRefusal(1_292, 300),
  "unclosed-fences": linesRefusal(1_170, 300),
  "ampersands": `SOP.md:6:122: ${inlineRefusal("this paragraph", 120)}`,
  "entities": `SOP.md:6:594: ${inlineRefusal("this paragraph", 120)}`,
  "hex-references": `SOP.md:6:358: ${inlineRefusal("this paragraph", 120)}`,
  "numeric-references": `SOP.md:6:1066: ${inlineRefusal("this paragraph", 120)}`,
  "escapes": `SOP.md:6:240: ${inlineRefusal("this paragraph", 120)}`,
  "backslashes": `SOP.md:6:240: ${inlineRefusal("this paragraph", 120)}`,
  "hard-breaks": linesRefusal(1_365, 300),
  "long-line": PARSES,
  "long-prose-line": PARSES,
  "table-rows": linesRefusal(332, 300),
  "paragraph-lines": linesRefusal(4_085, 300),
  "paragraphs": linesRefusal(5_444, 300),
  "blank-lines": linesRefusal(8_165, 300),
  "many-steps": linesRefusal(912, 300),
  "many-numbered-steps": linesRefusal(470, 300),
  "untitled-steps": linesRefusal(1_638, 300),
  "empty-steps": linesRefusal(2_728, 300),
  "steps-with-attribute-errors": `SOP.md:64:1: ${blocksRefusal(120)}`,
  "steps-headings": linesRefusal(910, 300),
  "headings": linesRefusal(2_045, 300),
  "setext-headings": linesRefusal(4_084, 300),
  "thematic-breaks": linesRefusal(2_045, 300),
  "bullets": linesRefusal(2_045, 300),
  "empty-bullets": linesRefusal(4_085, 300),
  "block-quote-lines": linesRefusal(2_045, 300),
  "nested-block-quotes": linesRefusal(376, 300),
  "nested-bullets-on-a-line": linesRefusal(459, 300),
  "deep-list-continuation": `SOP.md:31:45: ${nestingRefusal(300)}`,
  "zeroclaw-bullets": linesRefusal(587, 300),
  "tabs": "SOP.md:6:1: line is indented 32631 columns; SOP.md nesting is limited to 60 columns",
  "carriage-returns": linesRefusal(1_637, 300),
  "attribute-groups": `SOP.md:5:103: ${bracketsRefusal("this paragraph", 25)}`,
  "unclosed-attribute-groups": `SOP.md:5:163: ${bracketsRefusal("this paragraph", 25)}`,
  "attribute-quotes": `SOP.md:5:163: ${bracketsRefusal("this paragraph", 25)}`,
  "condition-parentheses": PARSES,
  "balanced-condition-parentheses": PARSES,
  "condition-chain": `SOP.md:5:311: ${inlineRefusal("this paragraph", 120)}`,
  "condition-string": `SOP.md:5:258: ${inlineRefusal("this paragraph", 120)}`,
  "long-attribute-key": PARSES,
  "many-diagnostics": `SOP.md:64:1: ${blocksRefusal(120)}`,
  "emphasis-at-the-limits": PARSES,
  "nested-emphasis-at-the-limits": PARSES,
  "brackets-at-the-limits": PARSES,
  "references-at-the-limits": PARSES,
  "lookahead-at-the-limit": PARSES,
  "inline-at-the-limits": PARSES,
  "inline-lines-at-the-limits": PARSES,
  "blocks-at-the-limit": PARSES,
  "titled-steps-at-the-limit": PARSES,
  "lines-at-the-limit": PARSES,
  "quote-lines-at-the-limit": PARSES,
  "nested-quote-lines-at-the-limit": PARSES,
  "nested-bullets-at-the-limit": PARSES,
  "setext-headings-at-the-limit": PARSES,
  "definitions-at-the-limit": PARSES,
  "diagnostics-at-the-limit": PARSES,
};

describe("every pathological shape, made against small limits just under a small cap", () => {
  it("has its outcome written down, here and at the product's limits and cap", () => {
    expect(Object.keys(OUTCOMES).sort()).toEqual([...SHAPE_NAMES].sort());
    expect(Object.keys(OUTCOMES_AT_THE_CAP).sort()).toEqual([...SHAPE_NAMES].sort());
  });

  it.each(SHAPE_NAMES)("%s parses, or is refused with one located error", (name) => {
    const markdown = pathologicalMarkdown(name, SMALL_CAP_BYTES - 1, SMALL);
    expect(new TextEncoder().encode(markdown).length).toBeLessThan(SMALL_CAP_BYTES);
    expect(outcomeOf(parseProcedure(markdown, "SOP.md", { limits: SMALL }).diagnostics)).toBe(OUTCOMES[name]);
  });
});

describe("the text limits' one-pass check", () => {
  it("finds exactly what counting line by line finds", () => {
    // Indentation, markers and line endings of every kind, near each of the small limits.
    const atom = fc.constantFrom(" ", "    ", "\t", "\t\t\t", ">", "> ", "- ", "* ", "+ ", "1. ", "12) ", "-", "a", "x y", "\n", "\r\n", "\r");
    const mixed = fc.array(atom, { maxLength: 30 }).map((parts) => parts.join(""));
    const repeated = fc.tuple(atom, fc.integer({ min: 1, max: 70 })).map(([part, times]) => part.repeat(times));
    const line = fc.tuple(repeated, mixed).map(([lead, rest]) => lead + rest);
    const text = fc.array(line, { maxLength: 320 }).map((parts) => parts.join("\n"));
    fc.assert(
      fc.property(text, fc.integer({ min: -2, max: 2 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 12 }), (md, spare, indentColumns, markersOnALine) => {
        // The line limit just around the text's own count, so the other two limits get their turn.
        const limits = { lines: Math.max(1, md.split(/\r\n|\r|\n/).length + spare), indentColumns, markersOnALine };
        expect(textProblem(md, limits)).toEqual(countedTextProblem(md, limits));
      }),
      { numRuns: 500 },
    );
  });
});

describe("metering the parse", () => {
  const plain = unified().use(remarkParse);
  const metered = unified().use(remarkParse).data("micromarkExtensions", [markdownBudget(MARKDOWN_LIMITS)]);
  const atoms = ["*", "**", "_", "a", "b_c", " ", "\n", "\n\n", "\r", "[", "]", "](u)", "![", "(", ")", "`", "``", "<", ">", "<!--", "-->", "<div>",
    "&amp;", "&", "\\", "- ", "1. ", "2) ", "> ", "# ", "=", "---", "```", "~~~", "    ", "\t", "[a]: u\n", "<http://x>", "|", "!"];

  it("gives exactly remark's tree whenever it does not refuse", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...atoms), { maxLength: 150 }), (pieces) => {
        const markdown = pieces.join("");
        expect(metered.parse(markdown)).toEqual(plain.parse(markdown));
      }),
      { numRuns: 400 },
    );
  });
});

describe("parseSop over more gates and steps than a message should list", () => {
  // How its time grows with thousands of each is npm run bench -- parse-limits (parse-gates).
  it("names at most ten slugs in each gate's message", () => {
    const steps = Array.from({ length: 40 }, (_, i) => `${i + 1}. **Step ${i + 1}**\n`).join("");
    const gates = Array.from({ length: 60 }, (_, i) => `post_gate_${i} = { type = "approval" }`).join("\n");
    const toml = `[sop]\nname = "big"\ndescription = "d"\nversion = "1"\n\n[gates]\n${gates}\n`;
    const { diagnostics } = parseSop({ folder: "big", tomlFile: "SOP.toml", toml, mdFile: "SOP.md", markdown: `## Steps\n\n${steps}` });
    expect(diagnostics).toHaveLength(60);
    expect(shown(diagnostics[0]!)).toBe(
      'SOP.toml:7:1: gate "post_gate_0" names no step: no step\'s title makes the slug "gate_0" ' +
        "(slugs: step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_8, step_9, step_10 … and 30 more)",
    );
    expect(diagnostics.filter((d) => !d.message.endsWith("(slugs: step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_8, step_9, step_10 … and 30 more)"))).toEqual([]);
  });
});
