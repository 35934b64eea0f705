/**
 * The fast tier (markdown-it) and micromark give the same procedure for every input: the property
 * that lets parseProcedure try the fast tier first. Proved on every SOP.md the project has, the
 * bench corpus, the pathological shapes and generated SOP-like Markdown; and, stronger, that the
 * fast tier's tree is remark's wherever it does not decline, and that it only runs where
 * micromark's budget could not have refused the text.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { fromMarkdown } from "mdast-util-from-markdown";
import { describe, expect, it } from "vitest";
import { corpusSop } from "../../bench/sop-corpus.ts";
import { fastMarkdownTree, fastTreeDeclines } from "../../src/core/sop/fast-markdown-tree.ts";
import { budgetBounds, fastTierAccepts } from "../../src/core/sop/fast-tier-budget.ts";
import { markdownBudget } from "../../src/core/sop/markdown-budget.ts";
import { MARKDOWN_LIMITS } from "../../src/core/sop/markdown-limits.ts";
import { parseProcedure, parseProcedureFast } from "../../src/core/sop/parse-procedure.ts";
import { createContext } from "../../src/core/sop/procedure-context.ts";
import { pathologicalShapes } from "../chaos/pathological-markdown.ts";
import { sopLikeMarkdown } from "../helpers/sop-like-markdown.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");
const markdownUnder = (dir: string): [string, string][] =>
  readdirSync(new URL(dir, ROOT), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => [`${dir}/${f}`, read(`${dir}/${f}`)]);

const EXAMPLES = markdownUnder("sops-example");
const FIXTURES = markdownUnder("test/fixtures");
const CORPUS = Array.from({ length: 1000 }, (_, i) => corpusSop(i).md);

/** Markdown's and the attribute syntax's own characters, in any order: odd shapes more than SOPs. */
const ATOMS = ["*", "**", "_", "a", "b_c", " ", "  ", "\n", "\n\n", "[", "]", "](u)", "![", "(", ")", "`", "``", "<", "<!--", "<div>", "&amp;", "&",
  "\\", "- ", "1. ", "2) ", "> ", "# ", "=", "---", "```", "~~~", "    ", "[a]: u\n", "<http://x>", "!", "é", "**T**", "[if: a]", "## Steps\n"];
const markdownish = fc.array(fc.constantFrom(...ATOMS), { maxLength: 120 }).map((parts) => parts.join(""));

const micromarkOnly = (md: string) => parseProcedure(md, "SOP.md");
const bothTiers = (md: string) => parseProcedure(md, "SOP.md", { fastTree: fastMarkdownTree });

/** remark's tree without `spread`, which the fast tier leaves out (the reader never reads it). */
function withoutSpread(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutSpread);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(Object.entries(node).filter(([key]) => key !== "spread").map(([key, value]) => [key, withoutSpread(value)]));
}

/** The fast tree, where the fast tier takes the text, is remark's. */
function sameTreeWhereTaken(md: string): boolean {
  if (!fastTierAccepts(md, MARKDOWN_LIMITS)) return false;
  const fast = fastMarkdownTree(createContext(md, "SOP.md"));
  if (!fast) return false;
  expect(fast).toEqual(withoutSpread(fromMarkdown(md)));
  return true;
}

describe("the fast tier", () => {
  it("takes every SOP of the bench corpus and reads each exactly as micromark does", () => {
    // All are taken (the speed depends on it); every fourth is compared with micromark, whose
    // parse is the slow part: the corpus rotates its step templates, so these hold every shape.
    CORPUS.forEach((md, i) => {
      const fast = parseProcedureFast(md, "SOP.md", fastMarkdownTree);
      expect(fast).toBeDefined();
      if (i % 4 === 0) expect(fast).toEqual(micromarkOnly(md));
    });
  }, 120_000);

  it("builds remark's own tree for the SOPs of the bench corpus", () => {
    // Every fifth: the corpus rotates its step templates, so these hold every shape it has.
    const some = CORPUS.filter((_, i) => i % 5 === 0);
    // Why it declines, if it ever does, is the first thing to know.
    expect(some.map((md) => fastTreeDeclines(createContext(md, "SOP.md"))).filter((why) => why !== undefined)).toEqual([]);
    expect(some.filter((md) => sameTreeWhereTaken(md))).toHaveLength(some.length);
  });

  it("takes the example SOPs that have no diagnostic", () => {
    const taken = EXAMPLES.filter(([, md]) => parseProcedureFast(md, "SOP.md", fastMarkdownTree) !== undefined).map(([name]) => name);
    expect(taken).toEqual(EXAMPLES.filter(([, md]) => micromarkOnly(md).diagnostics.length === 0).map(([name]) => name));
  });

  it("takes a big valid SOP of 150 steps", () => {
    const step = (n: number) => {
      // The body lines up past the marker ("10. " is four wide), or it falls out of the step.
      const pad = " ".repeat(`${n}. `.length);
      return (
        `${n}. **Step ${n}** [if: tests_pass && region == "eu", timeout: 30]\n` +
        `${pad}Check *this* with \`tool_${n}\`; see [the runbook](https://wiki.example.com/${n}).\n` +
        `${pad}\`\`\`bash\n${pad}echo "\${SOP_VAR_SERVICE}_${n}" >> "$SOP_OUTPUT"\n${pad}\`\`\`\n`
      );
    };
    const md = `# Big\n\n## Steps\n\n${Array.from({ length: 150 }, (_, i) => step(i + 1)).join("\n")}`;
    const fast = parseProcedureFast(md, "SOP.md", fastMarkdownTree);
    expect(fast?.steps).toHaveLength(150);
    expect(fast).toEqual(micromarkOnly(md));
  });
});

describe("parseProcedure gives what micromark alone gives", () => {
  it.each([...EXAMPLES, ...FIXTURES])("for %s", (_, md) => {
    expect(bothTiers(md)).toEqual(micromarkOnly(md));
    sameTreeWhereTaken(md);
  });

  it.each(pathologicalShapes(16 * 1024).map((s) => [s.name, s.markdown] as const))("for the pathological shape %s", (_, md) => {
    expect(bothTiers(md)).toEqual(micromarkOnly(md));
  });

  it("for generated SOP-like Markdown", () => {
    fc.assert(
      fc.property(sopLikeMarkdown, (md) => {
        expect(bothTiers(md)).toEqual(micromarkOnly(md));
        sameTreeWhereTaken(md);
      }),
      { numRuns: 600 },
    );
  });

  it("for strings of Markdown's own characters", () => {
    fc.assert(
      fc.property(markdownish, (md) => {
        expect(bothTiers(md)).toEqual(micromarkOnly(md));
        sameTreeWhereTaken(md);
      }),
      { numRuns: 1000 },
    );
  });

  it("for emphasis of every shape, where the two parsers are likeliest to differ", () => {
    const pieces = ["*", "**", "***", "_", "__", "a", "T", "b_c", " ", "\n", "\n\n", "(", ")", ".", "`", "\\", "- ", "1. ", "é", "**T**", "x*", "*x", "[", "](u)"];
    const emphasis = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((parts) => parts.join(""));
    fc.assert(
      fc.property(emphasis, (md) => {
        sameTreeWhereTaken(md);
      }),
      { numRuns: 3000 },
    );
  });

  it("for corpus SOPs with characters inserted, deleted or swapped", () => {
    const pieces = ["*", "_", "`", "[", "]", "(", ")", "\\", "&", "<", "\n", "\n\n", "  ", "1. ", "- ", "#", "é", "\t", "\r\n"];
    const mutated = fc
      .tuple(fc.integer({ min: 0, max: CORPUS.length - 1 }), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...pieces), fc.nat(3)), { minLength: 1, maxLength: 4 }))
      .map(([i, edits]) =>
        edits.reduce((md, [at, piece, cut]) => {
          const k = Math.floor(at * md.length);
          return md.slice(0, k) + piece + md.slice(k + cut);
        }, CORPUS[i] ?? ""),
      );
    fc.assert(
      fc.property(mutated, (md) => {
        expect(bothTiers(md)).toEqual(micromarkOnly(md));
        sameTreeWhereTaken(md);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the fast tier's budget bounds", () => {
  /** micromark, metered with the bounds as its limits, never refuses: they are above its counts. */
  function boundsHold(md: string): void {
    if (!fastTierAccepts(md, MARKDOWN_LIMITS)) return;
    expect(() => fromMarkdown(md, { extensions: [markdownBudget(budgetBounds(md))] })).not.toThrow();
  }

  it("are never below micromark's own counts", () => {
    for (const [, md] of [...EXAMPLES, ...FIXTURES]) boundsHold(md);
    for (const md of CORPUS.slice(0, 100)) boundsHold(md);
    fc.assert(fc.property(sopLikeMarkdown, boundsHold), { numRuns: 300 });
    fc.assert(fc.property(markdownish, boundsHold), { numRuns: 1000 });
  });

  it("hold on every pathological shape at the cap that the fast tier would take", () => {
    for (const shape of pathologicalShapes()) {
      const accepted = fastTierAccepts(shape.markdown, MARKDOWN_LIMITS);
      if (accepted) boundsHold(shape.markdown);
    }
  });
});
