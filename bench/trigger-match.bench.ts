/**
 * Command-trigger matching with 1,000 SOPs loaded: every chat message the bot sees goes through
 * `CommandMatcher.match`, which tries each SOP's pattern. 10,000 messages, most of them ordinary
 * chatter that matches nothing, some near misses, some commands that start exactly one SOP. The
 * baseline, measured in the same run, is one precompiled RegExp `test` per message (what a single
 * SOP would cost); the ratio is how many such tests a message costs with 1,000 SOPs.
 */
import { performance } from "node:perf_hooks";
import { loadSops } from "../src/app/load-sops.ts";
import type { SopDefinition } from "../src/core/sop/types.ts";
import { CommandMatcher } from "../src/core/triggers/command-matcher.ts";
import { fmt, ratioText, targetText, type BenchResult } from "./bench-result.ts";
import { writeCorpus } from "./sop-corpus.ts";
import { collectGarbage, median, percentile } from "./stats.ts";
import { withWorkspace } from "./temp-workspace.ts";

const SOP_COUNT = 1000;
const MESSAGES = 10_000;
const ROUNDS = 5;
const TARGET_US = 1000;
/** A pass of the one-RegExp baseline takes ~0.3 ms; this many make a round worth timing. */
const SINGLE_REPEAT = 100;

/** mulberry32: the same messages on every run and machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHATTER = [
  "morning all, standup in 5",
  "can someone look at the billing alerts? error rate is up since 09:40",
  "lgtm, merging",
  "who owns the checkout dashboard now?",
  "deploying search to staging after lunch unless anyone objects",
  "the ledger migration is taking longer than expected, ETA 30 min",
  "👍",
  "ack",
  "is the sop-runner bot down? it didn't answer my last message",
  "reminder: freeze starts Friday 18:00 UTC, no prod deploys after that",
  "rolled back inventory, the new image had a bad config map",
  "PagerDuty says auth p99 latency > 800ms in eu-west-1, looking",
  "Here's the postmortem draft: https://wiki.example.com/incidents/2024-11-03 please comment before Thursday",
  "thanks!",
  "sure, I'll pick up the notifications ticket",
  "has anyone seen `ECONNRESET` from the payments gateway today? getting a few per minute",
] as const;

const WORDS = ["cache", "pod", "retry", "latency", "queue", "rollout", "config", "alert", "ticket", "release", "on-call", "node", "disk", "cert", "TLS", "DNS"] as const;

interface Message {
  text: string;
  /** The SOP it must start, if any. */
  sop?: string;
  kind: "chatter" | "near-miss" | "command";
}

const sopName = (i: number) => `sop-${String(i).padStart(4, "0")}`;

/** ~85% chatter, ~5% near misses (mention an SOP, fail its pattern), ~10% commands. */
function messages(count: number): Message[] {
  const random = rng(0x5eed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const version = () => `${1 + Math.floor(random() * 3)}.${Math.floor(random() * 20)}.${Math.floor(random() * 10)}`;
  const out: Message[] = [];
  for (let n = 0; n < count; n++) {
    const r = random();
    const name = sopName(Math.floor(random() * SOP_COUNT));
    if (r < 0.85) {
      let text: string = pick(CHATTER);
      // Some long ones: pasted logs and stack traces are part of chat too.
      if (random() < 0.1) text += " " + Array.from({ length: 20 + Math.floor(random() * 60) }, () => pick(WORDS)).join(" ");
      out.push({ text, kind: "chatter" });
    } else if (r < 0.9) {
      const nearMisses = [
        `${name} failed again, anyone?`,
        `${name}:`,
        `please run ${name}:${version()} production`,
        `${name}:${version()} prod`,
        `${name}: ${version()}`,
      ];
      out.push({ text: pick(nearMisses), kind: "near-miss" });
    } else {
      const env = random() < 0.5 ? "" : pick([" staging", " production"]);
      out.push({ text: `${name}:${version()}${env}`, sop: name, kind: "command" });
    }
  }
  return out;
}

/**
 * Milliseconds of one pass of `fn` over all texts (the mean of `repeat` back-to-back passes, so a
 * pass too short for the clock is still timed well); the checksum of one pass is kept, so nothing
 * is optimised away.
 */
function pass(texts: readonly string[], fn: (text: string) => number, repeat: number): { ms: number; checksum: number } {
  let checksum = 0;
  const start = performance.now();
  for (let r = 0; r < repeat; r++) {
    checksum = 0;
    for (const text of texts) checksum += fn(text);
  }
  return { ms: (performance.now() - start) / repeat, checksum };
}

/** Median pass time over ROUNDS, after one unmeasured round; checks every pass gives the same checksum. */
function medianPass(texts: readonly string[], fn: (text: string) => number, repeat = 1): { ms: number; samples: number[]; checksum: number } {
  const { checksum } = pass(texts, fn, repeat);
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    collectGarbage();
    const round = pass(texts, fn, repeat);
    if (round.checksum !== checksum) throw new Error("matching gave different answers between rounds");
    samples.push(round.ms);
  }
  return { ms: median(samples), samples, checksum };
}

function commandPatterns(defs: readonly SopDefinition[]): string[] {
  return defs.flatMap((d) => d.triggers.flatMap((t) => (t.type === "command" ? [t.pattern] : [])));
}

export async function benchTriggerMatch(): Promise<BenchResult[]> {
  const defs = await withWorkspace("trigger-match", async (ws) => {
    await writeCorpus(ws.sopsDir, SOP_COUNT);
    const loaded = await loadSops(ws.sopsDir);
    const problems = loaded.diagnostics.filter((d) => d.severity === "error");
    if (loaded.sops.length !== SOP_COUNT || problems.length > 0) {
      throw new Error(`generated corpus does not load: ${loaded.sops.length}/${SOP_COUNT} SOPs, first error: ${problems[0]?.message ?? "none"}`);
    }
    return loaded.sops.map((s) => s.definition);
  });
  const patterns = commandPatterns(defs);
  if (patterns.length !== SOP_COUNT) throw new Error(`expected one command trigger per SOP, found ${patterns.length} for ${SOP_COUNT} SOPs`);

  const buildStart = performance.now();
  const matcher = new CommandMatcher(defs);
  const buildMs = performance.now() - buildStart;

  const msgs = messages(MESSAGES);
  const texts = msgs.map((m) => m.text);
  // Matching must be right before its speed means anything: each command starts its SOP alone.
  for (const m of msgs) {
    const got = matcher.match(m.text).map((x) => x.sop);
    const want = m.sop === undefined ? [] : [m.sop];
    if (got.join() !== want.join()) throw new Error(`${JSON.stringify(m.text)} matched [${got.join(", ")}], expected [${want.join(", ")}]`);
  }
  const commands = msgs.filter((m) => m.kind === "command").length;

  const matched = medianPass(texts, (text) => matcher.match(text).length);
  if (matched.checksum !== commands) throw new Error(`${matched.checksum} matches, expected ${commands}`);

  // Baseline: one precompiled RegExp per message, the corpus's own pattern shape.
  const one = new RegExp(patterns[0]!);
  const single = medianPass(texts, (text) => (one.test(text) ? 1 : 0), SINGLE_REPEAT);
  // For the note: the same 1,000 patterns as bare RegExp tests, without the matcher around them.
  const all = patterns.map((p) => new RegExp(p));
  const bare = medianPass(texts, (text) => {
    let hits = 0;
    for (const re of all) if (re.test(text)) hits++;
    return hits;
  });
  if (bare.checksum !== commands) throw new Error(`bare RegExp loop found ${bare.checksum} matches, expected ${commands}`);

  // Per message, by kind: where the time goes, and the tail (each call timed on its own).
  collectGarbage();
  const perKind = new Map<Message["kind"], number[]>([["chatter", []], ["near-miss", []], ["command", []]]);
  const perMessage: number[] = [];
  for (const m of msgs) {
    const t0 = performance.now();
    matcher.match(m.text);
    const us = (performance.now() - t0) * 1000;
    perMessage.push(us);
    perKind.get(m.kind)!.push(us);
  }
  const kindMedian = (kind: Message["kind"]) => fmt(median(perKind.get(kind)!));

  const us = (matched.ms * 1000) / MESSAGES;
  const singleUs = (single.ms * 1000) / MESSAGES;
  const bareUs = (bare.ms * 1000) / MESSAGES;
  return [{
    name: "trigger-match",
    value: us,
    unit: `µs/message, ${fmt(SOP_COUNT)} SOPs`,
    baseline: `1 RegExp test ${fmt(singleUs * 1000)} ns/message`,
    ratio: `${ratioText(us / singleUs)} one RegExp test`,
    target: targetText(`< ${fmt(TARGET_US)} µs`, `${fmt(us)} µs`, us < TARGET_US),
    note: `${fmt(MESSAGES)} messages (${commands} commands, rest chatter and near misses), median of ${ROUNDS} passes ` +
      `(${matched.samples.map(fmt).join(", ")} ms); per message p99 ${fmt(percentile(perMessage, 99))} µs, max ${fmt(Math.max(...perMessage))} µs; ` +
      `median chatter ${kindMedian("chatter")} / near miss ${kindMedian("near-miss")} / command ${kindMedian("command")} µs; ` +
      `1,000 bare RegExp tests ${fmt(bareUs)} µs/message; matcher built in ${fmt(buildMs)} ms`,
  }];
}
