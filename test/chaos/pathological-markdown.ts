/**
 * SOP.md inputs that make Markdown parsers slow, each sized to just under a byte budget (by
 * default just under the 256 KiB cap on SOP files) and made against a set of parse limits (by
 * default the product's), for the parser's limits tests, its benchmark and any chaos harness that
 * measures the worst parse time. Every shape that was probed for super-linear time is here,
 * whether the parser refuses it or parses it. All of them are ASCII, so characters and bytes
 * agree, and deterministic, so two runs measure the same text.
 */
import { MAX_SOP_FILE_BYTES } from "../../src/app/load-sops.ts";
import { PROCEDURE_LIMITS, type ProcedureLimits } from "../../src/core/sop/procedure-limits.ts";

/** The largest SOP.md the loader accepts, less one byte. */
export const JUST_UNDER_CAP = MAX_SOP_FILE_BYTES - 1;

export interface PathologicalShape {
  name: string;
  /** What the text is and which part of the parser it aims at. */
  about: string;
  markdown: string;
}

interface ShapeMaker {
  about: string;
  /** The shape in at most `bytes`; the at-the-limit shapes fill up to `limits`. */
  make: (bytes: number, limits: ProcedureLimits) => string;
}

/** `head`, then as many units as fit in `bytes` (with `tail`), at most `count`, then `tail`. */
function fill(bytes: number, head: string, unit: string | ((i: number) => string), tail = "", count = Infinity): string {
  const parts = [head];
  let size = head.length + tail.length;
  for (let i = 0; i < count; i++) {
    const next = typeof unit === "string" ? unit : unit(i);
    if (size + next.length > bytes) break;
    parts.push(next);
    size += next.length;
  }
  parts.push(tail);
  return parts.join("");
}

/** `open` × n, `middle`, `close` × n: the largest n that fits. */
function nest(bytes: number, head: string, open: string, middle: string, close: string, tail = "\n"): string {
  const n = Math.floor((bytes - head.length - middle.length - tail.length) / (open.length + close.length));
  return head + open.repeat(n) + middle + close.repeat(n) + tail;
}

/**
 * `count` units (fewer if they do not fit), then one line of words up to `bytes`: the most of
 * something the parser accepts, in a file as big as the cap.
 */
function upTo(bytes: number, head: string, unit: string | ((i: number) => string), count: number): string {
  return fill(bytes, fill(bytes - 3, head, unit, "\n\n", count), "word ", "\n");
}

/** Room for the heading, the step and the closing words around an at-the-limit shape. */
const MARGIN = 20;
const perParagraph = (limit: { paragraph?: number; file: number }): number => limit.paragraph ?? limit.file;

/** One step whose first line holds the text, so it is in the procedure and in a title. */
const STEP = "# Chaos\n\n## Steps\n\n1. **Step** ";
/** One step whose description (its second line on) holds the text. */
const BODY = "# Chaos\n\n## Steps\n\n1. **Step**\n   ";
/** A procedure of one step, then the text as top-level Markdown after it. */
const AFTER = "# Chaos\n\n## Steps\n\n1. **Step**\n\n";
/** The Steps heading alone: the text makes the procedure. */
const STEPS = "# Chaos\n\n## Steps\n\n";

const SHAPES: Record<string, ShapeMaker> = {
  // Emphasis: micromark's attention resolver walks back and re-resolves spans per match.
  "nested-stars": {
    about: "the issue's line at the cap: a run of *, x, a run of * (every pair nests)",
    make: (b) => nest(b, "", "*", "x", "*"),
  },
  "nested-stars-in-a-title": {
    about: "the same inside a step title",
    make: (b) => nest(b, STEP, "*", "x", "*"),
  },
  "nested-star-underscore": {
    about: "*_ pairs, x, _* pairs: two markers that nest alternately",
    make: (b) => nest(b, BODY, "*_", "x", "_*"),
  },
  "emphasis-paragraphs-200": {
    about: "paragraphs of 200 '*a_ ' then 200 '_a* ', one after another to the cap",
    make: (b) => fill(b, AFTER, `${"*a_ ".repeat(200)}${"_a* ".repeat(200)}\n\n`),
  },
  "emphasis-paragraphs-1000": {
    about: "the same with 1,000 of each per paragraph",
    make: (b) => fill(b, AFTER, `${"*a_ ".repeat(1000)}${"_a* ".repeat(1000)}\n\n`),
  },
  "unmatched-closers": {
    about: "'a* ' repeated in one paragraph: every closer walks back to the start",
    make: (b) => fill(b, BODY, "a* "),
  },
  "openers-then-other-closers": {
    about: "'*a ' openers, then '_a ' closers of the other marker, which walk back past them all",
    make: (b) => {
      const half = Math.floor((b - BODY.length) / 2);
      return fill(half + BODY.length, BODY, "*a ") + fill(half, "", "a_ ");
    },
  },
  "rule-of-three": {
    about: "'a**a ' then 'a*a ': openers that may not close each other (sizes add up to 3)",
    make: (b) => {
      const half = Math.floor((b - BODY.length) / 2);
      return fill(half + BODY.length, BODY, "a**a ") + fill(half, "", "a*a ");
    },
  },
  "paired-emphasis": {
    about: "'*a* ' repeated in one paragraph: well-formed but dense",
    make: (b) => fill(b, BODY, "*a* "),
  },
  "bold-in-one-paragraph": {
    about: "'**a** ' repeated in one paragraph",
    make: (b) => fill(b, BODY, "**a** "),
  },
  "intraword-underscores": {
    about: "SOP_VAR_NAME-style words: intraword _ never opens or closes emphasis",
    make: (b) => fill(b, BODY, "SOP_VAR_SERVICE_NAME_X "),
  },

  // Links, images, references: label ends walk back over label starts.
  "longest-step": {
    about: "one step of ~10,000 lines: description, then a command block",
    make: (b, { text }) => {
      const described = Math.floor(text.lines * 0.49);
      return fill(b, `${BODY}Words of description.\n`, (i) => (i < described ? "   Some words of description, and some more.\n" : i === described ? "   ```sh\n" : "   echo line\n"), "   ```\n");
    },
  },
  "open-brackets": { about: "'[' repeated", make: (b) => fill(b, BODY, "[") },
  "bracket-words": { about: "'[a ' repeated", make: (b) => fill(b, BODY, "[a ") },
  "shortcut-references": { about: "'[a] ' repeated: references to nothing", make: (b) => fill(b, BODY, "[a] ") },
  "nested-brackets": { about: "[ × n, a, ] × n", make: (b) => nest(b, BODY, "[", "a", "]") },
  "nested-links": { about: "[ × n, a, ](u) × n", make: (b) => nest(b, BODY, "[", "a", "](u)") },
  "unclosed-link-destinations": { about: "'[a](' repeated", make: (b) => fill(b, BODY, "[a](") },
  "label-ends": { about: "'](' repeated", make: (b) => fill(b, BODY, "](") },
  "images": { about: "'![' repeated", make: (b) => fill(b, BODY, "![") },
  "inline-links": { about: "'[a](b) ' repeated", make: (b) => fill(b, BODY, "[a](b) ") },
  "destination-parentheses": { about: "[a]( then ( × n", make: (b) => fill(b, `${BODY}[a](`, "(") },
  "definitions": { about: "'[a]: b' lines", make: (b) => fill(b, AFTER, "[a]: b\n") },
  "definitions-and-references": {
    about: "distinct definitions, then references to them",
    make: (b) => {
      const half = Math.floor((b - AFTER.length) / 2);
      return fill(half + AFTER.length, AFTER, (i) => `[d${i}]: u\n`) + fill(half, "\n", (i) => `[d${i}] `);
    },
  },

  // HTML and autolinks: each < may scan ahead for its end.
  "angle-brackets": { about: "'<' repeated", make: (b) => fill(b, `${BODY}x `, "<") },
  "html-tags": { about: "'<a ' repeated", make: (b) => fill(b, `${BODY}x `, "<a ") },
  "html-comments": { about: "'<!-- ' repeated, never closed", make: (b) => fill(b, `${BODY}x `, "<!-- ") },
  "processing-instructions": { about: "'<? ' repeated, never closed", make: (b) => fill(b, `${BODY}x `, "<? ") },
  "declarations": { about: "'<!A ' repeated, never closed", make: (b) => fill(b, `${BODY}x `, "<!A ") },
  "cdata": { about: "'<![CDATA[ ' repeated, never closed", make: (b) => fill(b, `${BODY}x `, "<![CDATA[ ") },
  "html-attribute-quotes": { about: "\"<a b=' \" repeated", make: (b) => fill(b, `${BODY}x `, "<a b=' ") },
  "autolinks": { about: "'<http://a' repeated, never closed", make: (b) => fill(b, `${BODY}x `, "<http://a") },
  "html-blocks": { about: "'<div>' blocks", make: (b) => fill(b, AFTER, "<div>\n\n") },

  // Code: an unmatched backtick run scans to the end of its paragraph for a closer.
  "backtick-runs": {
    about: "backtick runs of lengths 1, 2, 3 … in one paragraph: none has a closer",
    make: (b) => fill(b, BODY, (i) => `${"`".repeat(i + 1)} `),
  },
  "unmatched-code-spans": { about: "'``a `' repeated", make: (b) => fill(b, BODY, "``a `") },
  "one-backtick-run": { about: "one run of backticks", make: (b) => fill(b, BODY, "`") },
  "paired-code-spans": { about: "'`a` ' repeated", make: (b) => fill(b, BODY, "`a` ") },
  "fenced-code-lines": {
    about: "one bash block of short lines in a step",
    make: (b) => fill(b, `${BODY.slice(0, -3)}   \`\`\`bash\n`, "   a\n", "   ```\n"),
  },
  "script-lines": {
    about: "one bash block of globs, underscores and stars: scripts are never refused",
    make: (b) => fill(b, `${BODY.slice(0, -3)}   \`\`\`bash\n`, '   ls ./*.log **/*_old_* | grep -E "^[a-z_]+*$" && echo "${SOP_VAR_A_B}" * 2\n', "   ```\n"),
  },
  "many-fences": { about: "one-line code blocks", make: (b) => fill(b, BODY.slice(0, -3), "   ```\n   x\n   ```\n") },
  "unclosed-fences": { about: "fence openers", make: (b) => fill(b, BODY.slice(0, -3), "   ```\n") },

  // Escapes and character references.
  "ampersands": { about: "'&' repeated", make: (b) => fill(b, BODY, "&") },
  "entities": { about: "'&amp;' repeated", make: (b) => fill(b, BODY, "&amp;") },
  "hex-references": { about: "'&#x' repeated", make: (b) => fill(b, BODY, "&#x") },
  "numeric-references": { about: "'&#1234567' repeated", make: (b) => fill(b, BODY, "&#1234567") },
  "escapes": { about: "'\\*' repeated", make: (b) => fill(b, BODY, "\\*") },
  "backslashes": { about: "'\\' repeated", make: (b) => fill(b, BODY, "\\") },
  "hard-breaks": { about: "'a\\' lines in one paragraph", make: (b) => fill(b, BODY, "a\\\n   ") },

  // Lines and blocks: micromark spends tens of microseconds per line and per block.
  "long-line": { about: "one line of letters", make: (b) => fill(b, BODY, "a") },
  "long-prose-line": { about: "one line of words", make: (b) => fill(b, BODY, "word ") },
  "table-rows": { about: "table rows (a paragraph without GFM)", make: (b) => fill(b, BODY, "| a | b | *c* | `d` |\n   ") },
  "paragraph-lines": { about: "'a' lines in one paragraph", make: (b) => fill(b, AFTER, "a\n") },
  "paragraphs": { about: "one-letter paragraphs", make: (b) => fill(b, AFTER, "a\n\n") },
  "blank-lines": { about: "empty lines", make: (b) => fill(b, AFTER, "\n") },
  "many-steps": { about: "'1. **S**' steps, 20,000 and more", make: (b) => fill(b, STEPS, "1. **S**\n") },
  "many-numbered-steps": { about: "steps numbered 1, 2, 3 …", make: (b) => fill(b, STEPS, (i) => `${i + 1}. **Step ${i + 1}**\n`) },
  "untitled-steps": { about: "'1. x' steps", make: (b) => fill(b, STEPS, "1. x\n") },
  "empty-steps": { about: "'1.' items with no content", make: (b) => fill(b, STEPS, "1.\n") },
  "steps-with-attribute-errors": {
    about: "steps whose groups have an unknown key, a bad value and a bad segment",
    make: (b) => fill(b, STEPS, "1. **S** [x: 1, timeout: no, z]\n"),
  },
  "steps-headings": { about: "'## Steps' repeated", make: (b) => fill(b, "", "## Steps\n") },
  "headings": { about: "'# a' headings", make: (b) => fill(b, AFTER, "# a\n") },
  "setext-headings": { about: "'a' underlined with '=': each heading rewrites all events so far", make: (b) => fill(b, AFTER, "a\n=\n") },
  "thematic-breaks": { about: "'***' lines", make: (b) => fill(b, AFTER, "***\n") },
  "bullets": { about: "'- a' items", make: (b) => fill(b, AFTER, "- a\n") },
  "empty-bullets": { about: "'-' items with no content", make: (b) => fill(b, AFTER, "-\n") },
  "block-quote-lines": { about: "'> a' lines", make: (b) => fill(b, AFTER, "> a\n") },
  "nested-block-quotes": { about: "lines of 10 nested quotes", make: (b) => fill(b, AFTER, `${"> ".repeat(10)}a\n`) },
  "nested-bullets-on-a-line": { about: "lines of 8 nested bullets", make: (b) => fill(b, AFTER, `${"- ".repeat(8)}a\n`) },
  "deep-list-continuation": {
    about: "24 nested bullets, then lines that continue the deepest one",
    make: (b) => {
      const ladder = Array.from({ length: 24 }, (_, d) => `${"  ".repeat(d)}- a\n`).join("");
      return fill(b, AFTER + ladder, `${"  ".repeat(24)}a\n`);
    },
  },
  "zeroclaw-bullets": { about: "'- tools: a' bullets in one step", make: (b) => fill(b, BODY.slice(0, -3), "   - tools: a\n") },
  "tabs": { about: "tabs in a description", make: (b) => fill(b, BODY, "\t") },
  "carriage-returns": { about: "lines ended by a lone CR", make: (b) => fill(b, BODY, "a\r   ") },

  // Our own code on top of mdast: attribute groups and conditions.
  "attribute-groups": { about: "'[if: a]' repeated on a title line", make: (b) => fill(b, STEP, "[if: a]") },
  "unclosed-attribute-groups": { about: "'[if: a' repeated on a title line", make: (b) => fill(b, STEP, "[if: a") },
  "attribute-quotes": { about: "'[if: \"' repeated on a title line", make: (b) => fill(b, STEP, '[if: "') },
  "condition-parentheses": { about: "[if: ( × n", make: (b) => fill(b, `${STEP}[if: `, "(", "]\n") },
  "balanced-condition-parentheses": { about: "[if: ( × n a ) × n]", make: (b) => nest(b, `${STEP}[if: `, "(", "a", ")", "]\n") },
  "condition-chain": { about: "[if: a && a && … ]", make: (b) => fill(b, `${STEP}[if: a`, " && a", "]\n") },
  "condition-string": { about: "[if: a == \"…\"] with a long string of escapes", make: (b) => fill(b, `${STEP}[if: a == "`, '\\"', '"]\n') },
  "long-attribute-key": { about: "[aaaa…: 1]", make: (b) => fill(b, `${STEP}[`, "a", ": 1]\n") },
  "many-diagnostics": {
    about: "steps that each earn several warnings and errors",
    make: (b) => fill(b, STEPS, (i) => `${i + 3}. **S** [timout: 1, if: a ==, manual: yes, manual: no]\n`),
  },
  // The most of each thing the parser accepts: these parse, and their time is the worst case.
  "emphasis-at-the-limits": {
    about: "paragraphs of '*a ' openers then '_a ' closers (the slowest pattern), each at the paragraph limit, up to the file limit",
    make: (b, { markdown }) => {
      const k = Math.floor(perParagraph(markdown.emphasis) / 2);
      return upTo(b, AFTER, `${"*a ".repeat(k)}${"a_ ".repeat(k)}\n\n`, Math.floor((markdown.emphasis.file - MARGIN) / (2 * k)));
    },
  },
  "nested-emphasis-at-the-limits": {
    about: "paragraphs of nested *_ … _*, each at the paragraph limit, up to the file limit",
    make: (b, { markdown }) => {
      const k = Math.floor(perParagraph(markdown.emphasis) / 4);
      return upTo(b, AFTER, `${"*_".repeat(k)}x${"_*".repeat(k)}\n\n`, Math.floor((markdown.emphasis.file - MARGIN) / (4 * k)));
    },
  },
  "brackets-at-the-limits": {
    about: "paragraphs of nested [ … ], each at the paragraph limit, up to the file limit",
    make: (b, { markdown }) => {
      const k = Math.floor(perParagraph(markdown.brackets) / 2);
      return upTo(b, AFTER, `${"[".repeat(k)}a${"]".repeat(k)}\n\n`, Math.floor((markdown.brackets.file - MARGIN) / (2 * k)));
    },
  },
  "references-at-the-limits": {
    about: "paragraphs of '[a] ' references to nothing, each at the paragraph limit, up to the file limit",
    make: (b, { markdown }) => {
      const k = Math.floor(perParagraph(markdown.brackets) / 2);
      return upTo(b, AFTER, `${"[a] ".repeat(k)}\n\n`, Math.floor((markdown.brackets.file - MARGIN) / (2 * k)));
    },
  },
  "lookahead-at-the-limit": {
    about: "unclosed backtick runs and '<!--' at the start of a long paragraph, reading ahead up to the limit",
    make: (b, { markdown }) => {
      const runs = Math.floor(markdown.lookahead.file / b);
      return fill(b, `${BODY}${Array.from({ length: runs }, (_, i) => (i % 2 ? "x <!-- " : `${"`".repeat(i + 1)} `)).join("")}`, " word");
    },
  },
  "inline-at-the-limits": {
    about: "paragraphs of escapes, entities and '<', each at the paragraph limit, up to the file limit",
    make: (b, { markdown }) => {
      const k = perParagraph(markdown.inline) - MARGIN;
      const paragraph = `${Array.from({ length: k }, (_, i) => ["\\*", "&amp;", "x < "][i % 3]).join("")}\n\n`;
      return upTo(b, AFTER, paragraph, Math.floor((markdown.inline.file - MARGIN) / k));
    },
  },
  "inline-lines-at-the-limits": {
    about: "one paragraph of 'x < y' lines up to the paragraph limit, then plain lines up to the line limit: each line's text is merged by splicing all the paragraph's events",
    make: (b, { text, markdown }) => {
      const k = perParagraph(markdown.inline) - MARGIN;
      return upTo(b, AFTER, (i) => (i < k ? "x < y\n" : "a\n"), text.lines - MARGIN);
    },
  },
  "blocks-at-the-limit": {
    about: "empty steps (the slowest block per byte) up to the block limit",
    make: (b, { markdown }) => upTo(b, STEPS, "1.\n", markdown.blocks.file - MARGIN),
  },
  "titled-steps-at-the-limit": {
    about: "steps with a bold title and a condition, up to the block limit",
    make: (b, { markdown }) => upTo(b, STEPS, (i) => `${i + 1}. **Step ${i + 1}** [if: a]\n`, Math.floor((markdown.blocks.file - MARGIN) / 2)),
  },
  "lines-at-the-limit": {
    about: "one-letter lines of one paragraph, up to the line limit",
    make: (b, { text }) => upTo(b, AFTER, "a\n", text.lines - MARGIN),
  },
  "quote-lines-at-the-limit": {
    about: "'> a' lines, up to the nesting limit",
    make: (b, { text, markdown }) => upTo(b, AFTER, "> a\n", Math.min(markdown.nesting.file, text.lines) - MARGIN),
  },
  "nested-quote-lines-at-the-limit": {
    about: "lines of 10 nested quotes, up to the nesting limit",
    make: (b, { markdown }) => upTo(b, AFTER, `${"> ".repeat(10)}a\n`, Math.floor((markdown.nesting.file - MARGIN) / 10)),
  },
  "nested-bullets-at-the-limit": {
    about: "lines of the most nested bullets a line may have, up to the block limit",
    make: (b, { text, markdown }) => upTo(b, AFTER, `${"- ".repeat(text.markersOnALine)}a\n`, Math.floor((markdown.blocks.file - MARGIN) / (text.markersOnALine + 1))),
  },
  "setext-headings-at-the-limit": {
    about: "ordinary steps, then underlined headings up to the limit: each rewrites every event so far",
    make: (b, { markdown }) => {
      const tail = "a\n=\n".repeat(markdown.setext.file);
      return `${ordinaryMarkdown(b - tail.length - 1)}\n${tail}`;
    },
  },
  "definitions-at-the-limit": {
    about: "ordinary steps, then link definitions up to the limit",
    make: (b, { markdown }) => {
      const tail = Array.from({ length: markdown.definitions.file }, (_, i) => `[d${i}]: u\n`).join("");
      return `${ordinaryMarkdown(b - tail.length - 1)}\n${tail}`;
    },
  },
  "diagnostics-at-the-limit": {
    about: "steps that each earn several warnings and errors, up to the block limit",
    make: (b, { markdown }) => upTo(b, STEPS, (i) => `${i + 3}. **S** [timout: 1, if: a ==, manual: yes, manual: no]\n`, Math.floor((markdown.blocks.file - MARGIN) / 2)),
  },
};

/** The names of every shape, in a stable order. */
export const SHAPE_NAMES: readonly string[] = Object.keys(SHAPES);

/** One shape at `bytes` (default: just under the cap), against `limits` (default: the product's). */
export function pathologicalMarkdown(name: string, bytes = JUST_UNDER_CAP, limits = PROCEDURE_LIMITS): string {
  const shape = SHAPES[name];
  if (!shape) throw new Error(`no pathological shape named "${name}"; known: ${SHAPE_NAMES.join(", ")}`);
  return shape.make(bytes, limits);
}

/** Every shape at `bytes` (default: just under the cap), against `limits` (default: the product's). */
export function pathologicalShapes(bytes = JUST_UNDER_CAP, limits = PROCEDURE_LIMITS): PathologicalShape[] {
  return SHAPE_NAMES.map((name) => ({ name, about: SHAPES[name]!.about, markdown: pathologicalMarkdown(name, bytes, limits) }));
}

const SERVICES = ["billing", "checkout", "search", "auth", "ledger"] as const;

/** One step as authors write them: bold title, attributes, prose with some emphasis, a script. */
function ordinaryStep(n: number): string {
  const service = SERVICES[n % SERVICES.length]!;
  const url = `SOP_VAR_${service.toUpperCase()}_URL`;
  // Continuation lines line up with the title, past "n. ".
  const pad = " ".repeat(String(n).length + 2);
  const lines = [
    `Make *sure* the \`${service}\` service is healthy before going on; see the`,
    `[runbook](https://wiki.example.com/${service}) and **do not** skip the ${url} check.`,
    ...(n % 4 === 0 ? ["- owner: team-ops", "- tools: shell, kubectl"] : []),
    "```bash",
    `curl -fsS "\${${url}}/health" | grep -q '"status": *"ok"'`,
    `ls /var/log/${service}/*.log | head -n 5 && echo "checked_${n}=true" >> "$SOP_OUTPUT"`,
    "```",
  ];
  const title = `${n}. **Check ${service} step ${n}** [if: tests_pass && environment == "production", timeout: 600]`;
  return [title, ...lines.map((line) => pad + line), ""].join("\n");
}

/**
 * An ordinary SOP.md of about `bytes` (never more): the baseline a pathological shape of the
 * same size is compared with. Its steps are what real SOPs hold, only many more of them.
 */
export function ordinaryMarkdown(bytes = JUST_UNDER_CAP): string {
  const head = "# Release\n\nShips a **new version** of each service. Ask in #ops before running it.\n\n## Steps\n\n";
  return fill(bytes, head, (i) => `${ordinaryStep(i + 1)}\n`, "## Notes\n\nNothing else.\n");
}
