/**
 * Budgets that keep remark's time small on any SOP.md under the 256 KiB cap, whatever the text.
 *
 * micromark (remark's tokenizer) spends tens of microseconds per block, and some of its
 * constructs are quadratic: emphasis walks back and re-resolves spans for every match, label
 * ends walk back over label starts, setext headings and nested list items rewrite every event so
 * far, an unclosed code span or HTML comment reads to the end of its paragraph, again for each
 * one. So the counts that drive those costs are taken from micromark's own constructs as it
 * tokenizes, which makes them exact (fenced and inline code and an intraword `_` never count;
 * paragraphs, lazy lines and containers are micromark's), and the first count past its limit
 * stops the parse with a located MarkdownLimitError. The same parse builds the tree when nothing
 * is over: there is no second pass, and the tree is exactly remark's. The limits themselves are
 * in markdown-limits.ts.
 *
 * fast-tier-budget.ts bounds these same counts from the text alone, to let the fast tier parse
 * only where none could trip: what is counted here, and how, is mirrored there (its test runs
 * this metering with those bounds as limits, and they must never trip).
 */
import {
  attention,
  autolink,
  blockQuote,
  characterEscape,
  characterReference,
  codeFenced,
  codeIndented,
  codeText,
  definition,
  hardBreakEscape,
  headingAtx,
  htmlFlow,
  htmlText,
  labelEnd,
  labelStartImage,
  labelStartLink,
  list,
  setextUnderline,
  thematicBreak,
} from "micromark-core-commonmark";
import type { Construct, Extension, ParseContext, Point, TokenizeContext, Tokenizer } from "micromark-util-types";
import { MarkdownLimitError, REFUSALS, type Budget, type MarkdownLimits } from "./markdown-limits.ts";

/** Counts for one parse: `parser` is micromark's per-parse context, shared by its tokenizers. */
interface Tally {
  file: Map<Budget, number>;
  /** Per text tokenizer, which is one per paragraph or heading. */
  paragraphs: WeakMap<TokenizeContext, Map<Budget, number>>;
  /** Offsets already counted: micromark checks a container before it attempts it. */
  counted: Map<Budget, Set<number>>;
}

const tallies = new WeakMap<ParseContext, Tally>();

function tallyOf(parser: ParseContext): Tally {
  let tally = tallies.get(parser);
  if (!tally) {
    tally = { file: new Map(), paragraphs: new WeakMap(), counted: new Map() };
    tallies.set(parser, tally);
  }
  return tally;
}

function add(counts: Map<Budget, number>, budget: Budget, units: number): number {
  const total = (counts.get(budget) ?? 0) + units;
  counts.set(budget, total);
  return total;
}

/**
 * Most counts are taken once per offset: micromark checks a container before it attempts it,
 * checks whether an underline interrupts a paragraph before it takes it, and tries two
 * constructs at a "<" or a "\\". Nesting and lookahead count every time: every open list item
 * tries to continue on every line (at the same offset when the line is blank), and two
 * constructs that fail at the same offset both read ahead.
 */
const COUNTED_EVERY_TIME: ReadonlySet<Budget> = new Set(["nesting", "lookahead"]);

/** Counts `units` of `budget` at `at`, and stops the parse past a limit. */
type Charge = (context: TokenizeContext, budget: Budget, units: number, at: Point) => void;

function charger(limits: MarkdownLimits): Charge {
  return (context, budget, units, at) => {
    const tally = tallyOf(context.parser);
    if (!COUNTED_EVERY_TIME.has(budget)) {
      let counted = tally.counted.get(budget);
      if (!counted) tally.counted.set(budget, (counted = new Set()));
      if (counted.has(at.offset)) return;
      counted.add(at.offset);
    }
    const limit = limits[budget];
    if (limit.paragraph !== undefined) {
      let counts = tally.paragraphs.get(context);
      if (!counts) tally.paragraphs.set(context, (counts = new Map<Budget, number>()));
      if (add(counts, budget, units) > limit.paragraph) throw exceeded(budget, "this paragraph", limit.paragraph, at);
    }
    if (add(tally.file, budget, units) > limit.file) throw exceeded(budget, "SOP.md", limit.file, at);
  };
}

function exceeded(budget: Budget, where: string, max: number, at: Point): MarkdownLimitError {
  const { code, message } = REFUSALS[budget];
  return new MarkdownLimitError(code, at.line, at.column, message(where, max));
}

type Hook = (context: TokenizeContext, start: Point) => void;

interface Hooks {
  tried?: Hook;
  matched?: Hook;
  /** Called where the construct gave up, before micromark rewinds to `start`. */
  failed?: Hook;
  continuation?: Construct;
}

/** `construct` under another name, calling the hooks when it is tried, matches or fails. */
function metered(construct: Construct, hooks: Hooks): Construct {
  const { tried, matched, failed } = hooks;
  const tokenize: Tokenizer = function (this: TokenizeContext, effects, ok, nok) {
    const start = this.now();
    tried?.(this, start);
    const onOk: typeof ok = matched ? (code) => (matched(this, start), ok(code)) : ok;
    const onNok: typeof nok = failed ? (code) => (failed(this, start), nok(code)) : nok;
    return construct.tokenize.call(this, effects, onOk, onNok);
  };
  const result: Construct = { ...construct, name: `${construct.name ?? "construct"}WithinLimits`, tokenize };
  if (hooks.continuation) result.continuation = hooks.continuation;
  return result;
}


/** Text constructs replace micromark's own (disabled by name), so each is tried once. */
const TEXT_CONSTRUCTS: Construct[] = [attention, autolink, characterEscape, characterReference, codeText, hardBreakEscape, htmlText, labelEnd, labelStartImage, labelStartLink];

function inlineConstructs(charge: Charge) {
  const inline: Hook = (context, start) => charge(context, "inline", 1, start);
  /** Counts the markers of a run that can open or close emphasis (the others are plain text). */
  const emphasisRun: Hook = (context) => {
    const token = context.events[context.events.length - 1]?.[1];
    if (token && (token._open || token._close)) charge(context, "emphasis", token.end.offset - token.start.offset, token.start);
  };
  /** What a construct read before it gave up is read again as text: quadratic when it is long. */
  const readAhead: Hook = (context, start) => {
    const read = context.now().offset - start.offset;
    if (read > 0) charge(context, "lookahead", read, start);
  };
  const bracket: Hook = (context, start) => {
    inline(context, start);
    charge(context, "brackets", 1, start);
  };
  return {
    attention: metered(attention, { tried: inline, matched: emphasisRun }),
    autolink: metered(autolink, { tried: inline, failed: readAhead }),
    characterEscape: metered(characterEscape, { tried: inline }),
    characterReference: metered(characterReference, { tried: inline, failed: readAhead }),
    codeText: metered(codeText, { tried: inline, failed: readAhead }),
    hardBreakEscape: metered(hardBreakEscape, { tried: inline }),
    htmlText: metered(htmlText, { tried: inline, failed: readAhead }),
    labelEnd: metered(labelEnd, { tried: bracket, failed: readAhead }),
    labelStartImage: metered(labelStartImage, { tried: bracket }),
    labelStartLink: metered(labelStartLink, { tried: bracket }),
  };
}

/**
 * Block constructs go in front of micromark's own, which stay: micromark refers to some of them
 * directly (a list item checks for a thematic break, a quote line attempts a quote).
 */
function blockConstructs(charge: Charge) {
  const block: Hook = (context, start) => charge(context, "blocks", 1, start);
  const nesting: Hook = (context, start) => charge(context, "nesting", 1, start);
  /**
   * A list item's continuation runs once per line per open item; it also starts the next item of
   * the list (a sibling), which it signals with `_closeFlow`.
   */
  const listContinuation = metered(defined(list.continuation, "list continuation"), {
    tried: nesting,
    matched: (context, start) => {
      if (context.containerState?._closeFlow) block(context, start);
    },
  });
  const quoteContinuation = metered(defined(blockQuote.continuation, "block quote continuation"), { tried: nesting });
  /** Tried last wherever a block starts: nothing else matched, so a paragraph starts here. */
  const paragraphStart: Construct = {
    partial: true,
    tokenize(_effects, _ok, nok) {
      // Tried again on every line of a paragraph, to see whether the line interrupts it.
      if (!this.interrupt) block(this, this.now());
      return nok;
    },
  };
  return {
    list: metered(list, { matched: block, continuation: listContinuation }),
    blockQuote: metered(blockQuote, { matched: block, continuation: quoteContinuation }),
    thematicBreak: metered(thematicBreak, { matched: block }),
    headingAtx: metered(headingAtx, { matched: block }),
    setextUnderline: metered(setextUnderline, {
      matched: (context, start) => {
        block(context, start);
        charge(context, "setext", 1, start);
      },
    }),
    htmlFlow: metered(htmlFlow, { matched: block }),
    codeFenced: metered(codeFenced, { matched: block }),
    codeIndented: metered(codeIndented, { matched: block }),
    definition: metered(definition, {
      matched: (context, start) => {
        block(context, start);
        charge(context, "definitions", 1, start);
      },
    }),
    paragraphStart,
  };
}

const digits = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57] as const;

/**
 * The micromark extension that meters a parse against `limits`; errors are thrown, so one parse,
 * one error. Each call makes its own constructs: build one per set of limits and keep it.
 */
export function markdownBudget(limits: MarkdownLimits): Extension {
  const charge = charger(limits);
  const inline = inlineConstructs(charge);
  const block = blockConstructs(charge);
  return {
    document: {
      42: block.list,
      43: block.list,
      45: block.list,
      ...Object.fromEntries(digits.map((code) => [code, block.list])),
      62: block.blockQuote,
    },
    contentInitial: { 91: block.definition },
    flowInitial: { [-2]: block.codeIndented, [-1]: block.codeIndented, 32: block.codeIndented },
    flow: {
      35: block.headingAtx,
      42: block.thematicBreak,
      45: [block.setextUnderline, block.thematicBreak],
      60: block.htmlFlow,
      61: block.setextUnderline,
      95: block.thematicBreak,
      96: block.codeFenced,
      126: block.codeFenced,
      null: [block.paragraphStart],
    },
    string: { 38: inline.characterReference, 92: inline.characterEscape },
    text: {
      33: inline.labelStartImage,
      38: inline.characterReference,
      42: inline.attention,
      60: [inline.autolink, inline.htmlText],
      91: inline.labelStartLink,
      92: [inline.hardBreakEscape, inline.characterEscape],
      93: inline.labelEnd,
      95: inline.attention,
      96: inline.codeText,
    },
    disable: { null: TEXT_CONSTRUCTS.map((construct) => defined(construct.name, "a text construct's name")) },
  };
}

/** micromark's constructs always carry these parts; a version without one is not the parser this was written for. */
function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`micromark changed: ${what} is missing`);
  return value;
}
