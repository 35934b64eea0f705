/**
 * Where things are in a TOML document. smol-toml (the parser of record) gives values without
 * positions, so positions come from toml-eslint-parser's AST, parsed lazily: only a document
 * that has something to point at pays for the second parse.
 */
import { parseTOML, type AST } from "toml-eslint-parser";
import type { Position } from "./types.ts";

export type TomlPath = readonly (string | number)[];

export interface TomlLocator {
  /** The value at `path`; for a missing key, its nearest existing table (`[sop]` header), else 1:1. */
  valueAt(path: TomlPath): Position;
  /** The key at `path` (for unknown-key warnings); falls back like `valueAt`. */
  keyAt(path: TomlPath): Position;
}

interface Entry {
  key: Position;
  value: Position;
  /** Tables only implied by a dotted key or header (`[a.b]` implies `a`) yield to a real one. */
  implicit: boolean;
}

/** A trie over key paths: walking a dotted key or a nested value costs O(1) per step. */
class Node {
  entry: Entry | undefined;
  readonly children = new Map<string | number, Node>();

  child(key: string | number): Node {
    let next = this.children.get(key);
    if (next === undefined) {
      next = new Node();
      this.children.set(key, next);
    }
    return next;
  }

  mark(entry: Entry): void {
    if (this.entry === undefined || (this.entry.implicit && !entry.implicit)) this.entry = entry;
  }
}

const START: Position = { line: 1, column: 1 };

function at(node: AST.HasLocs): Position {
  // toml-eslint-parser columns are 0-based; editors and our diagnostics are 1-based.
  return { line: node.loc.start.line, column: node.loc.start.column + 1 };
}

function keyName(node: AST.TOMLBare | AST.TOMLQuoted): string {
  return node.type === "TOMLBare" ? node.name : node.value;
}

function addTable(root: Node, table: AST.TOMLTable): void {
  const header = at(table);
  let node = root;
  table.resolvedKey.forEach((key, i) => {
    node = node.child(key);
    node.mark({ key: header, value: header, implicit: i < table.resolvedKey.length - 1 });
  });
  for (const pair of table.body) addPair(node, pair);
}

function addPair(table: Node, pair: AST.TOMLKeyValue): void {
  const parts = pair.key.keys;
  let node = table;
  parts.forEach((part, i) => {
    node = node.child(keyName(part));
    const isLast = i === parts.length - 1;
    node.mark({ key: at(part), value: isLast ? at(pair.value) : at(part), implicit: !isLast });
  });
  addContent(node, pair.value);
}

function addContent(node: Node, value: AST.TOMLContentNode): void {
  if (value.type === "TOMLInlineTable") {
    for (const pair of value.body) addPair(node, pair);
  } else if (value.type === "TOMLArray") {
    value.elements.forEach((element, i) => {
      const item = node.child(i);
      item.mark({ key: at(element), value: at(element), implicit: false });
      addContent(item, element);
    });
  }
}

function buildIndex(source: string): Node {
  const root = new Node();
  try {
    const program = parseTOML(source, { tomlVersion: "1.1" });
    for (const node of program.body[0].body) {
      if (node.type === "TOMLTable") addTable(root, node);
      else addPair(root, node);
    }
  } catch {
    // The two parsers may disagree, and toml-eslint-parser overflows its stack on very long
    // strings or deep nesting: then positions fall back to 1:1. The message still names the key.
  }
  return root;
}

/** A locator over `source`; the AST is built on the first question, never before. */
export function createTomlLocator(source: string): TomlLocator {
  let root: Node | undefined;
  const lookup = (path: TomlPath, pick: (entry: Entry) => Position): Position => {
    root ??= buildIndex(source);
    // The deepest entry on the path: the thing itself, or for a missing key its table.
    let node: Node | undefined = root;
    let found: Position = START;
    for (let i = 0; i < path.length && node !== undefined; i++) {
      node = node.children.get(path[i] as string | number);
      if (node?.entry !== undefined) found = i === path.length - 1 ? pick(node.entry) : node.entry.value;
    }
    return found;
  };
  return {
    valueAt: (path) => lookup(path, (entry) => entry.value),
    keyAt: (path) => lookup(path, (entry) => entry.key),
  };
}
