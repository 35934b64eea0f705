/**
 * fast-check arbitraries for SOP.md as people write it, and as they get it slightly wrong: a
 * title, prose, a Steps heading, numbered steps with bold titles and attribute groups, bullets,
 * fenced code with languages and indentation, nested lists, and now and then what the fast tier
 * must decline (tabs, CRLF, quotes, HTML, setext underlines, definitions, hard breaks …).
 */
import fc from "fast-check";

const word = fc.constantFrom("deploy", "the", "build", "Release", "x", "a1", "é", "naïve", "—", "🚀", "snake_case", "2", "ok.", "end,", "(see)");
const inlinePiece = fc.oneof(
  { weight: 8, arbitrary: word },
  { weight: 1, arbitrary: fc.constantFrom("*em*", "_em_", "**bold**", "__bold__", "***both***", "*a **b** c*", "**a*b*c**") },
  { weight: 1, arbitrary: fc.constantFrom("`code`", "`` a`b ``", "` x `", "`  `", "``", "`unclosed") },
  { weight: 1, arbitrary: fc.constantFrom("[link](https://example.com)", '[t](/p "title")', "[a](<b c>)", "[x](y 'z')", "[e]()", "[n](javascript:alert)", "[r][ref]", "[ref]", "![img](i.png)") },
  { weight: 1, arbitrary: fc.constantFrom("\\[", "\\]", "\\*", "\\_", "\\`", "\\\\", "\\a", "&amp;", "&&", "&#35;", "<b>", "<https://a.b>", "a < b", "!", "*", "_", "**", "[", "]", "](", '"', "'") },
  { weight: 1, arbitrary: fc.constantFrom('[if: env == "prod", timeout: 30]', "[timeout: 120]", "[requires_approval: true]", "[if: a && (b || c)]", "[retries: x]", "[if:]", "[oops") },
);
const inlineLine = fc
  .tuple(fc.array(inlinePiece, { minLength: 1, maxLength: 8 }), fc.constantFrom("", "", "", " ", "  "))
  .map(([parts, trailing]) => parts.join(" ") + trailing);
const eol = fc.constantFrom("\n", "\n", "\n", "\n", "\n", "\n", "\n", "\n", "  \n", " \n", "\\\n", "\r\n");
const indent = fc.constantFrom("", "", " ", "  ", "   ", "    ", "\t");

const fence = fc
  .tuple(
    fc.constantFrom("```", "~~~", "````"),
    fc.constantFrom("", "bash", "sh", "text", "json", "bash title", "py {x}", "a\\b", "bash  "),
    fc.array(fc.constantFrom("echo hi", "  indented", "", "```", "$x && y", "<tag>", "trailing  "), { maxLength: 4 }),
    fc.constantFrom("closed", "closed", "closed", "unclosed", "longer", "spaced"),
  )
  .map(([marker, lang, body, end]) => {
    const closer = { closed: [marker], unclosed: [], longer: [`${marker}\``], spaced: [`${marker}  `] }[end];
    return [marker + lang, ...body, ...closer];
  });

const paragraph = fc.array(inlineLine, { minLength: 1, maxLength: 3 });
const bullets = fc.array(fc.constantFrom("- continue_on_error: true", '- owner: "ops"', "- Note: prose", "- tools: shell, git", "* plain", "+ other", "- timeout:", "-", "- [ ] box"), { minLength: 1, maxLength: 3 });

/** One step: marker, optional bold title and group, then body lines indented under it (or not). */
const step = fc
  .tuple(
    fc.constantFrom(".", ")"),
    fc.option(fc.constantFrom("**Build**", "**Deploy to prod**", "**Two\nlines**", "Plain title", "**A** **B**", "`code` title", "**Wrapped**"), { nil: undefined }),
    fc.option(fc.constantFrom("[timeout: 30]", '[if: x == "y", timeout: 30]', "[manual: true]", "[if: steps.build == \"ok\"]", "— desc", "[bad"), { nil: undefined }),
    fc.array(fc.oneof(paragraph, fence, bullets, fc.constant(["1. nested", "2. nested two"]), fc.constant([""])), { maxLength: 4 }),
    fc.constantFrom(0, 1, 3),
  )
  .map(([delimiter, title, attrs, body, shift]) => ({ delimiter, head: [title, attrs].filter((p) => p !== undefined).join(" "), body, shift }));

const steps = fc.array(step, { minLength: 1, maxLength: 6 }).chain((items) =>
  fc.tuple(fc.constant(items), fc.array(fc.constantFrom(0, 1, 2), { minLength: items.length, maxLength: items.length })).map(([list, gaps]) =>
    list.flatMap((s, k) => {
      const marker = `${k + 1}${s.delimiter} `;
      const pad = " ".repeat(Math.max(0, marker.length - s.shift));
      const lines = [`${marker}${s.head}`, ...s.body.flat().map((l) => (l === "" ? "" : pad + l))];
      return [...lines, ...Array.from({ length: gaps[k] ?? 0 }, () => "")];
    }),
  ),
);

const oddBlock = fc.constantFrom(["> quoted", "> more"], ["---"], ["Title", "====="], ["Sub", "---"], ["    indented code"], ["<div>", "html", "</div>"], ["[ref]: /url"], ["* * *"], ["#"], ["####### seven"], ["#hash"]);
const block = fc.oneof(
  { weight: 3, arbitrary: paragraph },
  { weight: 2, arbitrary: fence },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom("#", "##", "###"), inlineLine, fc.constantFrom("", " ##", "  ")).map(([h, t, tail]) => [`${h} ${t}${tail}`]) },
  { weight: 1, arbitrary: bullets },
  { weight: 1, arbitrary: oddBlock },
);

/** A whole SOP.md: blocks, the Steps heading, steps, blocks; lines joined by random line endings. */
export const sopLikeMarkdown: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(block, { maxLength: 3 }),
    fc.constantFrom("## Steps", "## Steps", "# Steps", "### steps ###", "## Procedure"),
    steps,
    fc.array(block, { maxLength: 3 }),
    fc.array(fc.tuple(eol, indent), { minLength: 200, maxLength: 200 }),
    fc.boolean(),
    fc.constantFrom(0, 0, 0, 7, 23),
  )
  .map(([before, heading, items, after, endings, finalNewline, oddEvery]) => {
    const lines = [...before.flatMap((b) => [...b, ""]), heading, "", ...items, "", ...after.flatMap((b) => [...b, ""])];
    // Mostly plain lines; in some files every few lines a CRLF, a hard break or a tab.
    // Mostly plain "\n" and no extra indentation; sometimes a CRLF, a hard break or a tab.
    return lines
      .map((line, i) => {
        const [ending, extra] = endings[i % endings.length] ?? ["\n", ""];
        const odd = oddEvery > 0 && i % oddEvery === 3;
        return (odd ? extra : "") + line + (odd ? ending : "\n");
      })
      .join("")
      .slice(0, finalNewline ? undefined : -1);
  });
