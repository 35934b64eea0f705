/**
 * The SOP parser in dist/ is two bundles (scripts/build.ts): the parser, which every command that
 * reads SOPs loads, and the fast tier with markdown-it, which the app loads only for big loads
 * (load-sops.ts), so a server with a few SOPs never holds markdown-it in memory.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const SOP_DIR = new URL("../../dist/src/core/sop/", import.meta.url);
/** esbuild names each bundled file in a comment above its code. */
const bundles = (file: string, pkg: string) => readFileSync(new URL(file, SOP_DIR), "utf8").includes(`// node_modules/${pkg}/`);

it("leaves markdown-it out of the parser's bundle and in the fast tier's", () => {
  expect(bundles("parse-sop.js", "micromark-core-commonmark")).toBe(true);
  expect(bundles("parse-sop.js", "markdown-it")).toBe(false);
  expect(bundles("fast-markdown-tree.js", "markdown-it")).toBe(true);
});

it("holds zod's messages in English only, the language the parser words its errors in", () => {
  const text = readFileSync(new URL("parse-sop.js", SOP_DIR), "utf8");
  expect(text.match(/^\/\/ node_modules\/zod\/v4\/locales\/.*$/gm)).toEqual(["// node_modules/zod/v4/locales/en.js"]);
});
