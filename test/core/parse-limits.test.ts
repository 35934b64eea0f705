import { readFileSync } from "node:fs";
import fc from "fast-check";
import remarkParse from "remark-parse";
import { unified } from "unified";
import { describe, expect, it } from "vitest";
import { markdownBudget } from "../../src/core/sop/markdown-budget.ts";
import { MARKDOWN_LIMITS, REFUSALS } from "../../src/core/sop/markdown-limits.ts";
import { parseProcedure } from "../../src/core/sop/parse-procedure.ts";
import { parseSop } from "../../src/core/sop/parse-sop.ts";
import type { Diagnostic } from "../../src/core/sop/types.ts";
import { SHAPE_NAMES, ordinaryMarkdown, pathologicalMarkdown } from "../chaos/pathological-markdown.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/procedure/${name}.md`, import.meta.url), "utf8");
/** Diagnostics as the user sees them. */
const shown = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}: ${d.message}`;
const LIMIT_CODES = new Set([...Object.values(REFUSALS).map((limit) => limit.code), "too-many-lines", "too-deep"]);
/** The refusals for being past a limit, as shown; [] when the text is within every limit. */
const refusals = (md: string, file = "SOP.md") => parseProcedure(md, file).diagnostics.filter((d) => LIMIT_CODES.has(d.code)).map(shown);
const errors = (md: string) => parseProcedure(md, "SOP.md").diagnostics.filter((d) => d.severity === "error").map(shown);
/** Everything but the notes on metadata bullets (`- owner: …`), which have no effect and say so. */
const beyondBullets = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.code !== "bullet-without-effect");
const lines = (count: number, line: string) => Array.from({ length: count }, () => line).join("\n");

const EMPHASIS_IN_PARAGRAPH =
  'this paragraph has more than 200 "*" and "_" that can open or close emphasis; escape the literal ones as \\* and \\_, or put them in `code` or a code block';
const EMPHASIS_IN_FILE =
  'SOP.md has more than 10000 "*" and "_" that can open or close emphasis; escape the literal ones as \\* and \\_, or put them in `code` or a code block';
const BRACKETS_IN_PARAGRAPH =
  'this paragraph has more than 200 "[", "![" and "]"; escape the literal ones as \\[ and \\], or put them in `code` or a code block';
const BRACKETS_IN_FILE = 'SOP.md has more than 10000 "[", "![" and "]"; escape the literal ones as \\[ and \\], or put them in `code` or a code block';
const INLINE_IN_PARAGRAPH =
  'this paragraph has more than 1000 pieces of inline Markdown outside code (runs of "*" or "_", brackets, backticks, backslashes, "&" and "<"); ' +
  "put long literal text in a code block, or split it";
const INLINE_IN_FILE =
  'SOP.md has more than 20000 pieces of inline Markdown outside code (runs of "*" or "_", brackets, backticks, backslashes, "&" and "<"); ' +
  "put long literal text in a code block, or split it";
const UNCLOSED =
  'SOP.md has too many code spans, links or HTML that never close (a run of backticks, "<!--", "<?", "](" …), and for each the parser ' +
  "reads on to the end of its paragraph (more than 1000000 characters in all); close them, or escape their first character with a backslash";
const BLOCKS = "SOP.md has more than 4000 blocks (paragraphs, list items, headings, code blocks, quotes); split it into several SOPs";
const NESTING = "SOP.md has more than 10000 lines inside lists and quotes, counting each level of nesting; flatten the nesting, or split the SOP";
const SETEXT = 'SOP.md has more than 20 headings underlined with "=" or "-"; write them with "#", or put a blank line above a line of dashes';
const DEFINITIONS = 'SOP.md has more than 200 link definitions ("[name]: url"); write the links inline';
const tooManyLines = (count: number) => `SOP.md:10001:1: SOP.md has ${count} lines, more than 10000; split it into several SOPs`;

describe("the issue's input: 20,000 '*', 'x', 20,000 '*' on one line", () => {
  const issue = `${"*".repeat(20_000)}x${"*".repeat(20_000)}`;

  it("is refused at once, at the first run, saying what to change", () => {
    expect(parseProcedure(issue, "sops/chaos/SOP.md").diagnostics.map(shown)).toEqual([`sops/chaos/SOP.md:1:1: ${EMPHASIS_IN_PARAGRAPH}`]);
  });

  it("is refused in a step title, at the run's column", () => {
    expect(refusals(`## Steps\n\n1. **Deploy** ${issue}\n`)).toEqual([`SOP.md:3:15: ${EMPHASIS_IN_PARAGRAPH}`]);
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

  it("reads an ordinary SOP.md as big as the cap without a diagnostic beyond its metadata bullets", () => {
    const { steps, diagnostics } = parseProcedure(ordinaryMarkdown(), "SOP.md");
    expect(beyondBullets(diagnostics)).toEqual([]);
    expect(steps).toHaveLength(569);
  });

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

describe("each limit, at its edge", () => {
  const step = "## Steps\n\n1. A\n\n";

  it.each([
    ["emphasis in one paragraph", `${step}   ${"*a ".repeat(200)}\n`, `${step}   ${"*a ".repeat(201)}\n`, `SOP.md:5:604: ${EMPHASIS_IN_PARAGRAPH}`],
    ["emphasis in the file", `${step}${`   ${"*a ".repeat(200)}\n\n`.repeat(50)}`, `${step}${`   ${"*a ".repeat(200)}\n\n`.repeat(50)}   *a\n`, `SOP.md:105:4: ${EMPHASIS_IN_FILE}`],
    ["brackets in one paragraph", `${step}   ${"[".repeat(200)}\n`, `${step}   ${"[".repeat(201)}\n`, `SOP.md:5:204: ${BRACKETS_IN_PARAGRAPH}`],
    ["brackets in the file", `${step}${`   ${"[".repeat(200)}\n\n`.repeat(50)}`, `${step}${`   ${"[".repeat(200)}\n\n`.repeat(50)}   [\n`, `SOP.md:105:4: ${BRACKETS_IN_FILE}`],
    ["inline Markdown in one paragraph", `${step}   ${"\\*".repeat(1_000)}\n`, `${step}   ${"\\*".repeat(1_001)}\n`, `SOP.md:5:2004: ${INLINE_IN_PARAGRAPH}`],
    ["inline Markdown in the file", `${step}${`   ${"\\*".repeat(1_000)}\n\n`.repeat(20)}`, `${step}${`   ${"\\*".repeat(1_000)}\n\n`.repeat(20)}   \\*\n`, `SOP.md:45:4: ${INLINE_IN_FILE}`],
    [
      "text read again after unclosed HTML",
      `${step}   x ${"<!-- ".repeat(3)}${"a".repeat(300_000)}\n`,
      `${step}   x ${"<!-- ".repeat(4)}${"a".repeat(300_000)}\n`,
      `SOP.md:5:21: ${UNCLOSED}`,
    ],
    ["blocks", `## Steps\n\n${"1. **S**\n".repeat(1_999)}`, `## Steps\n\n${"1. **S**\n".repeat(2_000)}`, `SOP.md:2002:4: ${BLOCKS}`],
    ["nesting", lines(5_001, "> > a"), lines(5_002, "> > a"), `SOP.md:5002:1: ${NESTING}`],
    ["underlined headings", `${step}${"a\n=\n\n".repeat(20)}`, `${step}${"a\n=\n\n".repeat(21)}`, `SOP.md:66:1: ${SETEXT}`],
    [
      "link definitions",
      `${step}${Array.from({ length: 200 }, (_, i) => `[d${i}]: u\n`).join("")}`,
      `${step}${Array.from({ length: 201 }, (_, i) => `[d${i}]: u\n`).join("")}`,
      `SOP.md:205:1: ${DEFINITIONS}`,
    ],
    ["lines", "a\n".repeat(10_000), "a\n".repeat(10_001), tooManyLines(10_001)],
  ])("%s: the most allowed parses, one more is refused where it passes the limit", (_name, most, past, refusal) => {
    expect(refusals(most)).toEqual([]);
    expect(refusals(past)).toEqual([refusal]);
  });

  it("counts a lone CR as a line ending, as remark does, so nesting cannot hide behind one", () => {
    expect(refusals(`## Steps\n1. x\r${"- ".repeat(3_000)}x\n`)).toEqual(["SOP.md:3:1: line opens 3000 nested lists or quotes; SOP.md allows at most 40 on one line"]);
    expect(refusals(`## Steps\n1. x\r${"a\r".repeat(10_000)}`)).toEqual([tooManyLines(10_002)]);
  });
});

const PARSES = "parses";
/** Every pathological shape at the cap: parsed within the limits, or refused with one located error. */
const OUTCOMES: Record<string, string> = {
  "nested-stars": `SOP.md:1:1: ${EMPHASIS_IN_PARAGRAPH}`,
  "nested-stars-in-a-title": `SOP.md:5:13: ${EMPHASIS_IN_PARAGRAPH}`,
  "nested-star-underscore": `SOP.md:6:200: ${EMPHASIS_IN_PARAGRAPH}`,
  "emphasis-paragraphs-200": `SOP.md:7:401: ${EMPHASIS_IN_PARAGRAPH}`,
  "emphasis-paragraphs-1000": `SOP.md:7:401: ${EMPHASIS_IN_PARAGRAPH}`,
  "unmatched-closers": `SOP.md:6:593: ${EMPHASIS_IN_PARAGRAPH}`,
  "openers-then-other-closers": `SOP.md:6:592: ${EMPHASIS_IN_PARAGRAPH}`,
  "rule-of-three": `SOP.md:6:495: ${EMPHASIS_IN_PARAGRAPH}`,
  "paired-emphasis": `SOP.md:6:396: ${EMPHASIS_IN_PARAGRAPH}`,
  "bold-in-one-paragraph": `SOP.md:6:298: ${EMPHASIS_IN_PARAGRAPH}`,
  "intraword-underscores": `SOP.md:6:5746: ${INLINE_IN_PARAGRAPH}`,
  "open-brackets": `SOP.md:6:204: ${BRACKETS_IN_PARAGRAPH}`,
  "bracket-words": `SOP.md:6:604: ${BRACKETS_IN_PARAGRAPH}`,
  "shortcut-references": `SOP.md:6:404: ${BRACKETS_IN_PARAGRAPH}`,
  "nested-brackets": `SOP.md:6:204: ${BRACKETS_IN_PARAGRAPH}`,
  "nested-links": `SOP.md:6:204: ${BRACKETS_IN_PARAGRAPH}`,
  "unclosed-link-destinations": `SOP.md:6:404: ${BRACKETS_IN_PARAGRAPH}`,
  "label-ends": `SOP.md:6:404: ${BRACKETS_IN_PARAGRAPH}`,
  "images": `SOP.md:6:404: ${BRACKETS_IN_PARAGRAPH}`,
  "inline-links": `SOP.md:6:704: ${BRACKETS_IN_PARAGRAPH}`,
  "destination-parentheses": PARSES,
  "definitions": tooManyLines(37_450),
  "definitions-and-references": tooManyLines(11_855),
  "angle-brackets": `SOP.md:6:1004: ${INLINE_IN_PARAGRAPH}`,
  "html-tags": `SOP.md:6:3000: ${INLINE_IN_PARAGRAPH}`,
  "html-comments": `SOP.md:6:21: ${UNCLOSED}`,
  "processing-instructions": `SOP.md:6:15: ${UNCLOSED}`,
  "declarations": `SOP.md:6:18: ${UNCLOSED}`,
  "cdata": `SOP.md:6:36: ${UNCLOSED}`,
  "html-attribute-quotes": `SOP.md:6:6992: ${INLINE_IN_PARAGRAPH}`,
  "autolinks": `SOP.md:6:8988: ${INLINE_IN_PARAGRAPH}`,
  "html-blocks": tooManyLines(74_894),
  "backtick-runs": `SOP.md:6:13: ${UNCLOSED}`,
  "unmatched-code-spans": `SOP.md:6:9978: ${INLINE_IN_PARAGRAPH}`,
  "one-backtick-run": PARSES,
  "paired-code-spans": `SOP.md:6:3996: ${INLINE_IN_PARAGRAPH}`,
  "fenced-code-lines": tooManyLines(52_425),
  "script-lines": PARSES,
  "many-fences": tooManyLines(41_390),
  "unclosed-fences": tooManyLines(37_449),
  "ampersands": `SOP.md:6:1002: ${INLINE_IN_PARAGRAPH}`,
  "entities": `SOP.md:6:4994: ${INLINE_IN_PARAGRAPH}`,
  "hex-references": `SOP.md:6:2998: ${INLINE_IN_PARAGRAPH}`,
  "numeric-references": `SOP.md:6:8986: ${INLINE_IN_PARAGRAPH}`,
  "escapes": `SOP.md:6:2000: ${INLINE_IN_PARAGRAPH}`,
  "backslashes": `SOP.md:6:2000: ${INLINE_IN_PARAGRAPH}`,
  "hard-breaks": tooManyLines(43_690),
  "long-line": PARSES,
  "long-prose-line": PARSES,
  "longest-step": PARSES,
  "table-rows": tooManyLines(10_490),
  "paragraph-lines": tooManyLines(131_061),
  "paragraphs": tooManyLines(174_746),
  "blank-lines": tooManyLines(262_117),
  "many-steps": tooManyLines(29_128),
  "many-numbered-steps": tooManyLines(12_928),
  "untitled-steps": tooManyLines(52_428),
  "empty-steps": tooManyLines(87_378),
  "steps-with-attribute-errors": `SOP.md:2004:1: ${BLOCKS}`,
  "steps-headings": tooManyLines(29_127),
  "headings": tooManyLines(65_533),
  "setext-headings": tooManyLines(131_060),
  "thematic-breaks": tooManyLines(65_533),
  "bullets": tooManyLines(65_533),
  "empty-bullets": tooManyLines(131_061),
  "block-quote-lines": tooManyLines(65_533),
  "nested-block-quotes": tooManyLines(11_920),
  "nested-bullets-on-a-line": tooManyLines(14_567),
  "deep-list-continuation": `SOP.md:436:5: ${NESTING}`,
  "zeroclaw-bullets": tooManyLines(18_727),
  "tabs": "SOP.md:6:1: line is indented 1048439 columns; SOP.md nesting is limited to 200 columns",
  "carriage-returns": tooManyLines(52_427),
  "attribute-groups": `SOP.md:5:713: ${BRACKETS_IN_PARAGRAPH}`,
  "unclosed-attribute-groups": `SOP.md:5:1213: ${BRACKETS_IN_PARAGRAPH}`,
  "attribute-quotes": `SOP.md:5:1213: ${BRACKETS_IN_PARAGRAPH}`,
  "condition-parentheses": PARSES,
  "balanced-condition-parentheses": PARSES,
  "condition-chain": `SOP.md:5:2511: ${INLINE_IN_PARAGRAPH}`,
  "condition-string": `SOP.md:5:2018: ${INLINE_IN_PARAGRAPH}`,
  "long-attribute-key": PARSES,
  "many-diagnostics": `SOP.md:2004:1: ${BLOCKS}`,
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

describe("every pathological shape, just under the 256 KiB cap", () => {
  it("has its outcome written down here", () => {
    expect(Object.keys(OUTCOMES).sort()).toEqual([...SHAPE_NAMES].sort());
  });

  it.each(SHAPE_NAMES)("%s parses, or is refused with one located error", (name) => {
    const markdown = pathologicalMarkdown(name);
    expect(new TextEncoder().encode(markdown).length).toBeLessThan(256 * 1024);
    const { diagnostics } = parseProcedure(markdown, "SOP.md");
    const refused = diagnostics.filter((d) => LIMIT_CODES.has(d.code));
    if (OUTCOMES[name] === PARSES) expect(refused).toEqual([]);
    else expect(diagnostics.map(shown)).toEqual([OUTCOMES[name]]);
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

describe("parseSop over thousands of gates and steps", () => {
  it("names at most ten slugs in each gate's message", () => {
    const steps = Array.from({ length: 1_000 }, (_, i) => `${i + 1}. **Step ${i + 1}**\n`).join("");
    const gates = Array.from({ length: 3_000 }, (_, i) => `post_gate_${i} = { type = "approval" }`).join("\n");
    const toml = `[sop]\nname = "big"\ndescription = "d"\nversion = "1"\n\n[gates]\n${gates}\n`;
    const { diagnostics } = parseSop({ folder: "big", tomlFile: "SOP.toml", toml, mdFile: "SOP.md", markdown: `## Steps\n\n${steps}` });
    expect(diagnostics).toHaveLength(3_000);
    expect(shown(diagnostics[0]!)).toBe(
      'SOP.toml:7:1: gate "post_gate_0" names no step: no step\'s title makes the slug "gate_0" ' +
        "(slugs: step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_8, step_9, step_10 … and 990 more)",
    );
  });
});
