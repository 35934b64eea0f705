import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseProcedure } from "../../src/core/sop/parse-procedure.ts";
import { PROCEDURE_LIMITS } from "../../src/core/sop/procedure-limits.ts";
import type { Diagnostic } from "../../src/core/sop/types.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/procedure/${name}.md`, import.meta.url), "utf8");
/** Diagnostics as the user sees them. */
const shown = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}: ${d.message}`;
const located = (md: string, severity?: Diagnostic["severity"]) =>
  parseProcedure(md, "SOP.md").diagnostics.filter((d) => !severity || d.severity === severity).map(shown);
const steps = (md: string) => parseProcedure(md, "SOP.md").steps;

describe("parseProcedure on the seed's deploy-production SOP.md", () => {
  const { steps: parsed, diagnostics } = parseProcedure(fixture("basic"), "sops/deploy-production/SOP.md");

  it("reads five steps without a single diagnostic", () => {
    expect(diagnostics).toEqual([]);
    expect(parsed.map((s) => [s.number, s.line, s.title, s.slug])).toEqual([
      [1, 3, "Run Tests", "run_tests"],
      [2, 6, "Build Release", "build_release"],
      [3, 12, "Deploy to Staging", "deploy_to_staging"],
      [4, 15, "Verify Staging", "verify_staging"],
      [5, 18, "Deploy to Production", "deploy_to_production"],
    ]);
  });

  it("gives each conditional step its condition as written and parsed", () => {
    expect(parsed.map((s) => s.condition?.source)).toEqual([undefined, "tests_pass", undefined, "staging_ok", "staging_verified"]);
    expect(parsed[1]?.condition?.ast).toEqual({ kind: "var", name: "tests_pass" });
  });

  it("marks the two deploys as needing approval", () => {
    expect(parsed.map((s) => s.requiresApproval)).toEqual([false, false, true, false, true]);
  });

  it("runs only the bash block, and describes every step in its own words", () => {
    expect(parsed.map((s) => s.commands)).toEqual([[], ["npm run build:prod"], [], [], []]);
    expect(parsed.map((s) => s.description)).toEqual([
      "Execute the test suite",
      "Build the production release",
      "Deploy to staging environment first",
      "Run smoke tests on staging",
      "Final production deployment",
    ]);
  });

  it("leaves every other setting at its default", () => {
    for (const step of parsed) {
      expect(step).toMatchObject({ manual: false, retries: 0, continueOnError: false, always: false, metadata: {}, shown: [] });
      expect(step.timeoutSecs).toBeUndefined();
    }
  });
});

describe("parseProcedure on adversarial but valid Markdown", () => {
  const { steps: parsed, diagnostics } = parseProcedure(fixture("evil"), "SOP.md");

  it("never takes a Steps heading or list inside a fence for structure, and accepts any level and case", () => {
    expect(diagnostics.map(shown)).toEqual(['SOP.md:24:6: bullet "owner" has no effect in sop-runner (it is kept as metadata)']);
    expect(parsed.map((s) => s.title)).toEqual(["Real", "Plain title with `code`", "Déploiement — ünïcode"]);
  });

  it("stops at the next heading of the same level but reads on past a deeper one", () => {
    expect(parsed.map((s) => [s.number, s.line])).toEqual([[1, 18], [2, 30], [3, 42]]);
  });

  it("keeps quoted commas and brackets inside a condition and reads every attribute", () => {
    expect(parsed[0]).toMatchObject({ timeoutSecs: 30, retries: 2, continueOnError: true, metadata: { owner: "team-ops" } });
    expect(parsed[0]?.condition?.source).toBe('a == "x, ]y" || (b && c)');
    expect(parsed[2]?.condition?.source).toBe("!(x == 'a]b') && y != \"1\"");
    expect(parsed[1]?.always).toBe(true);
  });

  it("finds commands in nested lists and quotes, and only shows other languages", () => {
    expect(parsed.map((s) => s.commands)).toEqual([["echo one", "echo nested"], ["echo quoted"], []]);
    expect(parsed.map((s) => s.shown)).toEqual([[], [{ lang: "text", code: "not run" }], [{ lang: "json", code: '{"k": [1, 2]}' }]]);
  });

  it("keeps inline code and escaped brackets as description, never as attributes", () => {
    expect(parsed[0]?.description).toBe(
      "Checks `[if: not-an-attribute]` and \\[brackets\\].\n\n- Remember: prose bullets stay prose\n  1. nested",
    );
  });
});

describe("parseProcedure on ZeroClaw-style bullets", () => {
  const { steps: parsed, diagnostics } = parseProcedure(fixture("zeroclaw"), "SOP.md");

  it("reads requires_confirmation as requires_approval, known keys as attributes and the rest as metadata", () => {
    expect(diagnostics.map(shown)).toEqual([
      'SOP.md:8:6: bullet "tools" has no effect in sop-runner (it is kept as metadata); sop-runner has no agent tools: a step runs the sh code blocks under it',
      'SOP.md:20:6: bullet "owner" has no effect in sop-runner (it is kept as metadata)',
    ]);
    expect(parsed[0]).toMatchObject({
      title: "Check disk space",
      requiresApproval: true,
      timeoutSecs: 120,
      metadata: { tools: "shell, df" },
      commands: ["df -h"],
      shown: [{ lang: "console", code: "$ df -h\nFilesystem  Size" }],
    });
    expect(parsed[1]).toMatchObject({ title: "Clean up", manual: true, metadata: { owner: "sre" } });
  });

  it("leaves bullets that are not key: value in the description and takes the attribute bullets out", () => {
    expect(parsed[0]?.description).toBe("Look at every mounted volume.\n- Notes like this one stay in the description");
  });
});

describe("parseProcedure on a malformed SOP.md", () => {
  it("reports every problem at its line and column, in order", () => {
    expect(parseProcedure(fixture("malformed"), "sops/broken/SOP.md").diagnostics.map((d) => `${d.severity}: ${shown(d)}`)).toEqual([
      'error: sops/broken/SOP.md:5:17: unbalanced "[": the attribute group is never closed; end it with "]"',
      'error: sops/broken/SOP.md:6:39: requires_approval must be true or false, got "yes"',
      'error: sops/broken/SOP.md:6:53: timeout must be a positive whole number of seconds, got "0"',
      'error: sops/broken/SOP.md:6:65: retries must be a whole number >= 0, got "-1"',
      "warning: sops/broken/SOP.md:7:1: step numbered 5 follows 2",
      'error: sops/broken/SOP.md:7:38: bad condition: expected a condition after "&&"',
      'error: sops/broken/SOP.md:8:1: step 4 has no title; start it with one, e.g. "4. **Build release**"',
      'error: sops/broken/SOP.md:9:29: attribute "manual" is set twice (first at 9:15); keep one',
      "error: sops/broken/SOP.md:9:44: a step takes one attribute group; merge this one into the first",
      'error: sops/broken/SOP.md:10:29: requires_confirmation must be true or false, got "maybe"',
      "warning: sops/broken/SOP.md:12:1: this code block is outside any step; indent it under the step it belongs to",
      'warning: sops/broken/SOP.md:16:14: unknown step attribute "timout" (known: if, requires_approval, manual, timeout, retries, continue_on_error, always); did you mean "timeout"?',
      "warning: sops/broken/SOP.md:17:4: code fence opened here is never closed",
    ]);
  });

  it("still returns every step it found, numbered by position", () => {
    expect(steps(fixture("malformed")).map((s) => [s.number, s.title])).toEqual([
      [1, "Unclosed"], [2, "Bad values"], [3, "Bad condition"], [4, ""], [5, "Twice"], [6, "Typo"],
    ]);
  });
});

describe("parseProcedure errors", () => {
  it.each([
    ["an empty file", fixture("empty"), 'SOP.md:1:1: SOP.md has no "Steps" heading'],
    ["no Steps heading", "# Title\n\n1. **A**\n", 'SOP.md:1:1: SOP.md has no "Steps" heading'],
    ["a Steps heading only inside a fence", "```\n## Steps\n1. **x**\n```\n", 'SOP.md:1:1: SOP.md has no "Steps" heading'],
    ["a Steps heading without a list", "# T\n\n## Steps\n\nNothing here.\n",
      'SOP.md:3:1: the "Steps" section has no numbered list of steps; add one, e.g. "1. **Build release**"'],
    ["a list only after the section ends", "## Steps\n\n## Other\n\n1. **A**\n",
      'SOP.md:1:1: the "Steps" section has no numbered list of steps; add one, e.g. "1. **Build release**"'],
    ["bullets instead of numbers", "## Steps\n\nIntro.\n\n- **A**\n", 'SOP.md:5:1: steps must be an ordered list ("1. …")'],
    ["a bad condition, at the exact character", "## Steps\n1. **A** [if: a ==]\n",
      'SOP.md:2:19: bad condition: expected a value after "==" (a quoted string, number, true, false or variable name)'],
    ["a bad condition in a bullet", "## Steps\n1. **A**\n   - if: a && (b\n",
      'SOP.md:3:15: bad condition: "(" is never closed'],
    ["an unbalanced [", "## Steps\n1. **A** [if: ready\n", 'SOP.md:2:10: unbalanced "[": the attribute group is never closed; end it with "]"'],
    ["an unterminated quote", '## Steps\n1. **A** [if: a == "x]\n', 'SOP.md:2:20: unterminated string: the " opened here is never closed'],
    ["a non-boolean", "## Steps\n1. **A** [requires_approval: yes]\n", 'SOP.md:2:30: requires_approval must be true or false, got "yes"'],
    ["a quoted non-boolean", '## Steps\n1. **A** [manual: "TRUE"]\n', 'SOP.md:2:19: manual must be true or false, got "TRUE"'],
    ["a timeout that is not a positive number", "## Steps\n1. **A** [timeout: soon]\n",
      'SOP.md:2:20: timeout must be a positive whole number of seconds, got "soon"'],
    ["negative retries", "## Steps\n1. **A** [retries: -1]\n", 'SOP.md:2:20: retries must be a whole number >= 0, got "-1"'],
    ["a duplicate key", "## Steps\n1. **A** [always: true, always: false]\n", 'SOP.md:2:25: attribute "always" is set twice (first at 2:11); keep one'],
    ["a key set in the group and again as a bullet", "## Steps\n1. **A** [requires_approval: true]\n   - requires_confirmation: true\n",
      'SOP.md:3:6: attribute "requires_approval" is set twice (here as "requires_confirmation", first at 2:11); keep one'],
    ["a metadata bullet given twice", "## Steps\n1. **A**\n   - tools: a\n   - tools: b\n", 'SOP.md:4:6: attribute "tools" is set twice (first at 3:6); keep one'],
    ["an empty value", "## Steps\n1. **A** [if: ]\n", 'SOP.md:2:11: attribute "if" has no value'],
    ["an empty bullet value", "## Steps\n1. **A**\n   - timeout:\n", 'SOP.md:3:6: attribute "timeout" has no value'],
    ["a pair without a colon", "## Steps\n1. **A** [if x]\n", 'SOP.md:2:11: expected "key: value" in the attribute group, got "if x"'],
    ["a second attribute group", "## Steps\n1. **A** [always: true] [manual: true]\n",
      "SOP.md:2:25: a step takes one attribute group; merge this one into the first"],
    ["a missing title", "## Steps\n1. [always: true]\n", 'SOP.md:2:1: step 1 has no title; start it with one, e.g. "1. **Build release**"'],
    ["an empty item", "## Steps\n1. **A**\n2.\n", 'SOP.md:3:1: step 2 has no title; start it with one, e.g. "2. **Build release**"'],
  ])("reports %s at its place", (_what, md, message) => {
    expect(located(md, "error")).toEqual([message]);
  });
});

describe("parseProcedure warnings", () => {
  it.each([
    ["an unknown attribute, suggesting the near one", "## Steps\n1. **A** [timout: 5]\n",
      'SOP.md:2:11: unknown step attribute "timout" (known: if, requires_approval, manual, timeout, retries, continue_on_error, always); did you mean "timeout"?'],
    ["an unknown attribute nothing is near", "## Steps\n1. **A** [color: red]\n",
      'SOP.md:2:11: unknown step attribute "color" (known: if, requires_approval, manual, timeout, retries, continue_on_error, always)'],
    ["a metadata bullet that looks like a typo", "## Steps\n1. **A**\n   - manuel: true\n",
      'SOP.md:3:6: bullet "manuel" has no effect in sop-runner (it is kept as metadata); did you mean "manual"?'],
    ["a numbering gap", "## Steps\n1. **A**\n2. **B**\n5. **C**\n", "SOP.md:4:1: step numbered 5 follows 2"],
    ["a repeated number", "## Steps\n1. **A**\n1) **B**\n", "SOP.md:3:1: step numbered 1 follows 1"],
    ["a first step that is not 1", "## Steps\n3. **A**\n4. **B**\n", "SOP.md:2:1: the first step is numbered 3; number the steps from 1"],
    ["a code block between steps", "## Steps\n1. **A**\n\n```sh\necho lost\n```\n\n2. **B**\n",
      "SOP.md:4:1: this code block is outside any step; indent it under the step it belongs to"],
    ["a paragraph between steps", "## Steps\n1. **A**\n\nLost words.\n\n2. **B**\n",
      "SOP.md:4:1: this paragraph is outside any step; indent it under the step it belongs to"],
    ["a code block after the last step", "## Steps\n1. **A**\n```sh\necho lost\n```\n",
      "SOP.md:3:1: this code block is outside any step; indent it under the step it belongs to"],
    ["an unclosed fence in a step", "## Steps\n1. **A**\n   ```sh\n   echo open\n", "SOP.md:3:4: code fence opened here is never closed"],
    ["a fence closed by the end of its step", "## Steps\n1. **A**\n   ```sh\n   echo open\n2. **B**\n", "SOP.md:3:4: code fence opened here is never closed"],
    ["an unclosed fence between steps", "## Steps\n1. **A**\n\n~~~\n2. **B**\n", "SOP.md:4:1: code fence opened here is never closed"],
    ["commands on a manual step", "## Steps\n1. **A** [manual: true]\n   ```sh\n   true\n   ```\n",
      'SOP.md:2:11: step 1 is manual, so its commands will not run; remove "manual: true" or the code blocks'],
  ])("warns about %s", (_what, md, message) => {
    expect(located(md, "warning")).toContain(message);
    expect(located(md, "error")).toEqual([]);
  });

  it("says nothing about closing prose, sub-headings between lists, or closed fences", () => {
    const md = "## Steps\n1. **A**\n   ````sh\n   echo ```\n   ````\n### Part two\n2. **B**\n   > ```sh\n   > b\n   > ```\n\nThat is all.\n";
    expect(located(md)).toEqual([]);
    expect(steps(md).map((s) => s.commands)).toEqual([["echo ```"], ["b"]]);
  });

  it("stands one summary for the rest after a hundred problems", () => {
    const md = `## Steps\n1. **A** [${"x: 1, ".repeat(300)}]\n`;
    const { diagnostics } = parseProcedure(md, "SOP.md");
    expect(diagnostics).toHaveLength(101);
    expect(diagnostics[100]).toMatchObject({ severity: "warning", code: "too-many-problems", message: "200 more problems from here on are not shown; fix the ones above first" });
  });
});

describe("parseProcedure section and titles", () => {
  it("takes the first Steps heading at any level and case, trimmed", () => {
    expect(steps("# Runbook\n\n#### sTePs \n\n1. **A**\n").map((s) => s.title)).toEqual(["A"]);
    expect(steps("Steps\n=====\n\n1. **A**\n\n# Steps\n\n1. **B**\n").map((s) => s.title)).toEqual(["A"]);
  });

  it("numbers steps by position across lists split by a stray block, keeping the written numbers for people", () => {
    const md = "## Steps\n1. **A**\n\n```sh\nlost\n```\n\n2. **B**\n3. **C**\n";
    expect(steps(md).map((s) => [s.number, s.title])).toEqual([[1, "A"], [2, "B"], [3, "C"]]);
    expect(located(md, "warning")).toHaveLength(1);
  });

  it("takes the item's first line as the title when it does not start with bold", () => {
    const [step] = steps("## Steps\n1.  Restart the   service [retries: 2] now\n   It is safe.\n");
    expect(step).toMatchObject({ title: "Restart the service now", slug: "restart_the_service_now", retries: 2, description: "It is safe." });
  });

  it("joins a bold title that wraps and reads the group after it", () => {
    const [step] = steps("## Steps\n1. **Build the\n   release** [always: true]\n   Then rest.\n");
    expect(step).toMatchObject({ title: "Build the release", always: true, description: "Then rest." });
  });

  it("keeps text beside a bold title, and a link after it, as the start of the description", () => {
    const [a, b] = steps("## Steps\n1. **A** takes a while [timeout: 60]\n   Be patient.\n2. **B** [docs](https://example.com/b)\n");
    expect(a).toMatchObject({ title: "A", timeoutSecs: 60, description: "takes a while\nBe patient." });
    expect(b).toMatchObject({ title: "B", description: "[docs](https://example.com/b)" });
  });

  it("makes a step without commands a note, and manual: true a manual step", () => {
    expect(steps("## Steps\n1. **Look** [manual: true]\n2. **Note**\n").map((s) => [s.manual, s.commands])).toEqual([[true, []], [false, []]]);
  });
});

describe("parseProcedure descriptions and commands", () => {
  it("dedents the item's Markdown, drops its code blocks and attribute bullets, and keeps paragraphs apart", () => {
    const md = [
      "## Steps",
      "1. **A**",
      "   First paragraph",
      "   continues here.",
      "   ```bash",
      "   make",
      "   ```",
      "   Second paragraph.",
      "   - tools: make",
      "   - a plain bullet",
      "",
      "         indented code is a command too",
      "",
      "   Last words.",
      "",
    ].join("\n");
    const [step] = steps(md);
    expect(step?.description).toBe("First paragraph\ncontinues here.\n\nSecond paragraph.\n- a plain bullet\n\nLast words.");
    expect(step?.commands).toEqual(["make", "indented code is a command too"]);
  });

  it("runs blocks tagged bash, sh, shell or nothing, in document order, and shows the rest", () => {
    const md = "## Steps\n1. **A**\n   ```SH\n   one\n   ```\n   ```console\n   $ two\n   ```\n   ```shell\n   three\n   ```\n   ```python title=x\n   four\n   ```\n";
    const [step] = steps(md);
    expect(step?.commands).toEqual(["one", "three"]);
    expect(step?.shown).toEqual([{ lang: "console", code: "$ two" }, { lang: "python", code: "four" }]);
  });
});

describe("parseProcedure robustness", () => {
  it("refuses 5,000 levels of nested lists or quotes at once, with the line, instead of parsing for minutes", () => {
    const lists = parseProcedure(`## Steps\n1. **Deep**\n   ${"- ".repeat(5_000)}x\n`, "SOP.md").diagnostics;
    expect(lists.map((d) => `${d.line}:${d.column}: ${d.message}`)).toEqual(["3:1: line opens 5000 nested lists or quotes; SOP.md allows at most 40 on one line"]);
    const quotes = parseProcedure(`## Steps\n1. **Deep**\n   ${"> ".repeat(5_000)}echo deep\n`, "SOP.md").diagnostics;
    expect(quotes[0]?.code).toBe("too-deep");
    const indented = `## Steps\n1. **A**\n${Array.from({ length: 300 }, (_, i) => `${"  ".repeat(i + 1)}- x`).join("\n")}\n`;
    expect(parseProcedure(indented, "SOP.md").diagnostics[0]?.message).toBe("line is indented 202 columns; SOP.md nesting is limited to 200 columns");
  });

  it("walks 30 levels of nested lists inside a step and still finds its commands", () => {
    const md = `## Steps\n1. **Deep**\n   ${"- ".repeat(30)}x\n   \`\`\`sh\n   echo after\n   \`\`\`\n2. **Next**\n`;
    const parsed = steps(md);
    expect(parsed.map((s) => s.title)).toEqual(["Deep", "Next"]);
    expect(parsed[0]?.commands).toEqual(["echo after"]);
  });

  it("gives NUL bytes and binary junk diagnostics or empty steps, never a throw", () => {
    let seed = 7;
    const junk = Array.from({ length: 200_000 }, () => String.fromCharCode((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256)).join("");
    for (const md of ["\u0000\u0001## Steps\n1. \u0000**x\uFFFD", `## Steps\n1. **A**\n${junk}`, "\u0000".repeat(100_000), `## Steps\n${junk}`]) {
      const result = parseProcedure(md, "SOP.md");
      expect(Array.isArray(result.steps)).toBe(true);
      for (const d of result.diagnostics) expect(d.line).toBeGreaterThanOrEqual(1);
    }
  });

  // Against a line limit of 300, so it takes milliseconds: at the product's 10,000 this step is
  // 250 KB, and how long it takes is the "longest-step" shape of npm run bench -- parse-limits
  // (npm run chaos's parser scenario checks that it parses).
  it("reads a step of nearly as many lines as SOP.md may have, whole", () => {
    const limits = { ...PROCEDURE_LIMITS, text: { ...PROCEDURE_LIMITS.text, lines: 300 } };
    const body = "   Some words of description, and some more words.\n".repeat(147);
    const md = `## Steps\n1. **Big** [if: a == "x, y", timeout: 60]\n${body}   \`\`\`sh\n${"   echo line\n".repeat(147)}   \`\`\`\n`;
    // 298 lines, each ended by a line ending.
    expect(md.match(/\n/g)).toHaveLength(298);
    const { steps: [step], diagnostics } = parseProcedure(md, "SOP.md", { limits });
    expect(diagnostics).toEqual([]);
    expect(step?.commands[0]?.split("\n")).toHaveLength(147);
    expect(step?.description.split("\n")).toHaveLength(147);
  });

  it("keeps a bullet named __proto__ as plain metadata", () => {
    const [step] = steps("## Steps\n1. **A**\n   - __proto__: polluted\n");
    expect(Object.getPrototypeOf(step?.metadata)).toBe(Object.prototype);
    expect(Object.keys(step?.metadata ?? {})).toEqual(["__proto__"]);
  });
});
