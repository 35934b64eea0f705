/**
 * fast-check arbitraries for SOP.md as people write it, and as they get it slightly wrong: a
 * title, prose, a Steps heading, numbered steps with bold titles and attribute groups, bullets,
 * fenced code with languages and indentation, nested lists. Half the documents are plain (what
 * the fast tier should take, so its tree is compared often); the other half also hold what it
 * must decline (tabs, CRLF, quotes, HTML, setext underlines, definitions, hard breaks, entities,
 * unclosed fences, autolinks …), anywhere.
 */
import fc from "fast-check";

const PLAIN = {
  words: ["deploy", "the", "build", "Release", "x", "a1", "é", "naïve", "snake_case", "2", "ok.", "end,", "(see)", "Überprüfen", '"q"', "it's"],
  emphasis: ["*em*", "_em_", "**bold**", "__bold__", "***both***", "*a **b** c*", "**a*b*c**", "**Ünïcode**", "a*b*c", "snake_case_name"],
  code: ["`code`", "`` a`b ``", "` x `", "`  `", "`a_b*c`"],
  links: ["[link](https://example.com)", '[t](/p "title")', "[x](y 'z')", "[**b** `c`](/u)", "[a](/b(c))"],
  escapes: ["\\[", "\\]", "\\*", "\\_", "\\\\", "\\a", "&&", "!", "*", "_", "[", "]", '"', "'", "a < b", "x > y"],
  attributes: ['[if: env == "prod", timeout: 30]', "[timeout: 120]", "[requires_approval: true]", "[if: a && (b || c)]", "[retries: x]", "[if:]", "[oops"],
};
const ODD = {
  words: ["—", "🚀", "a\u00a0b", "*—*", "_🚀_"],
  code: ["``", "`unclosed"],
  links: ["[a](<b c>)", "[e]()", "[n](javascript:alert)", "[r][ref]", "[ref]", "![img](i.png)", "[u](a\\_b)", "[v](&amp;)"],
  escapes: ["\\`", "&amp;", "&#35;", "<b>", "<https://a.b>", "**", "](", "<!-- c -->"],
};

function inlinePiece(odd: boolean): fc.Arbitrary<string> {
  const pick = (plain: string[], extra: string[] = []) => fc.constantFrom(...plain, ...(odd ? extra : []));
  return fc.oneof(
    { weight: 8, arbitrary: pick(PLAIN.words, ODD.words) },
    { weight: 2, arbitrary: pick(PLAIN.emphasis) },
    { weight: 1, arbitrary: pick(PLAIN.code, ODD.code) },
    { weight: 1, arbitrary: pick(PLAIN.links, ODD.links) },
    { weight: 1, arbitrary: pick(PLAIN.escapes, ODD.escapes) },
    { weight: 1, arbitrary: pick(PLAIN.attributes) },
  );
}

function documentOf(odd: boolean): fc.Arbitrary<string> {
  const inlineLine = fc
    .tuple(fc.array(inlinePiece(odd), { minLength: 1, maxLength: 8 }), fc.constantFrom("", "", "", " ", ...(odd ? ["  "] : [])))
    .map(([parts, trailing]) => parts.join(" ") + trailing);
  const fence = fc
    .tuple(
      fc.constantFrom("```", "~~~", "````"),
      fc.constantFrom("", "bash", "sh", "text", "json", "bash title", "py {x}", "bash  ", ...(odd ? ["a\\b", "x&amp;"] : [])),
      fc.array(fc.constantFrom("echo hi", "  indented", "", "```", "$x && y", "<tag>", "trailing  ", "- item", "1. one"), { maxLength: 4 }),
      fc.constantFrom("closed", "closed", "longer", "spaced", ...(odd ? ["unclosed"] : [])),
    )
    .map(([marker, lang, body, end]) => {
      const closer = { closed: [marker], unclosed: [], longer: [`${marker}${marker[0] ?? ""}`], spaced: [`${marker}  `] }[end] ?? [marker];
      return [marker + lang, ...body, ...closer];
    });
  const paragraph = fc.array(inlineLine, { minLength: 1, maxLength: 3 });
  const bullets = fc.array(
    fc.constantFrom("- continue_on_error: true", '- owner: "ops"', "- Note: prose", "- tools: shell, git", "* plain", "+ other", "- timeout:", ...(odd ? ["-", "- [ ] box"] : [])),
    { minLength: 1, maxLength: 3 },
  );
  /** One step: marker, optional bold title and group, then body lines indented under it (or not). */
  const step = fc
    .tuple(
      fc.constantFrom(".", ")"),
      fc.option(fc.constantFrom("**Build**", "**Deploy to prod**", "**Two\nlines**", "Plain title", "**A** **B**", "`code` title", "**Wrapped**"), { nil: undefined }),
      fc.option(fc.constantFrom("[timeout: 30]", '[if: x == "y", timeout: 30]', "[manual: true]", '[if: steps.build == "ok"]', "— desc", "[bad"), { nil: undefined }),
      fc.array(fc.oneof(paragraph, fence, bullets, fc.constant(["1. nested", "2. nested two"]), fc.constant([""])), { maxLength: 4 }),
      fc.constantFrom(0, 0, 0, 1, 3),
    )
    .map(([delimiter, title, attrs, body, shift]) => ({ delimiter, head: [title, attrs].filter((p) => p !== undefined).join(" "), body, shift }));
  const steps = fc.array(step, { minLength: 1, maxLength: 6 }).chain((items) =>
    fc.tuple(fc.constant(items), fc.array(fc.constantFrom(0, 1, 2), { minLength: items.length, maxLength: items.length })).map(([list, gaps]) =>
      list.flatMap((s, k) => {
        const marker = `${k + 1}${s.delimiter} `;
        // The body lines up past the marker, or (shifted) falls out of the step.
        const pad = " ".repeat(Math.max(0, marker.length - s.shift));
        const lines = [`${marker}${s.head}`, ...s.body.flat().map((l) => (l === "" ? "" : pad + l))];
        return [...lines, ...Array.from({ length: gaps[k] ?? 0 }, () => "")];
      }),
    ),
  );
  const oddBlock = fc.constantFrom(["> quoted", "> more"], ["---"], ["Title", "====="], ["Sub", "---"], ["    indented code"], ["<div>", "html", "</div>"], ["[ref]: /url"], ["* * *"]);
  const heading = fc
    .tuple(fc.constantFrom("#", "##", "###", ...(odd ? ["####### seven", "#hash"] : [])), inlineLine, fc.constantFrom("", " ##", "  ", " #"))
    .map(([h, t, tail]) => [`${h} ${t}${tail}`]);
  const block = fc.oneof(
    { weight: 3, arbitrary: paragraph },
    { weight: 2, arbitrary: fence },
    { weight: 2, arbitrary: heading },
    { weight: 1, arbitrary: bullets },
    { weight: odd ? 1 : 0, arbitrary: oddBlock },
  );
  // Line endings and extra indentation for the odd documents: a CRLF, a hard break, a tab.
  const eol = fc.constantFrom("\n", "\n", "\n", "  \n", " \n", "\\\n", "\r\n", "\r");
  const indent = fc.constantFrom("", "", " ", "  ", "    ", "\t");
  return fc
    .tuple(
      fc.array(block, { maxLength: 3 }),
      fc.constantFrom("## Steps", "## Steps", "# Steps", "### steps ###", "## Procedure"),
      steps,
      fc.array(block, { maxLength: 3 }),
      fc.array(fc.tuple(eol, indent), { minLength: 50, maxLength: 50 }),
      fc.boolean(),
      fc.constantFrom(...(odd ? [0, 7, 23] : [0])),
    )
    .map(([before, headingLine, items, after, endings, finalNewline, oddEvery]) => {
      const lines = [...before.flatMap((b) => [...b, ""]), headingLine, "", ...items, "", ...after.flatMap((b) => [...b, ""])];
      return lines
        .map((line, i) => {
          const [ending, extra] = endings[i % endings.length] ?? ["\n", ""];
          const changed = oddEvery > 0 && i % oddEvery === 3;
          return (changed ? extra : "") + line + (changed ? ending : "\n");
        })
        .join("")
        .slice(0, finalNewline ? undefined : -1);
    });
}

/** A whole SOP.md: blocks, the Steps heading, steps, blocks; plain or with odd Markdown in it. */
export const sopLikeMarkdown: fc.Arbitrary<string> = fc.boolean().chain(documentOf);
