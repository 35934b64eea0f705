/**
 * What every chaos scenario shares: the counts it reports (one column each in the table), the
 * context it runs in (size, seeded randomness, a log, a cleanup stack) and the way it is run.
 */
import { Workspace } from "../helpers/workspace.ts";
import type { Rng } from "./rng.ts";

/** CHAOS_KEEP=1 keeps each scenario's workspace (and the logs of every process it started) to look at. */
export const KEEP = process.env["CHAOS_KEEP"] === "1";

/** A scenario's temp SOPS_DIR/LOGS_DIR/DATA_DIR, removed at the end unless CHAOS_KEEP=1. */
export async function scenarioWorkspace(ctx: ScenarioContext, tally: Tally): Promise<Workspace> {
  const ws = await Workspace.create();
  if (KEEP) tally.note(`workspace kept (CHAOS_KEEP=1): ${ws.root}`);
  else ctx.cleanup.push("remove the workspace", () => ws.remove());
  return ws;
}

/** The counts of the table; each must be 0. */
export const COUNT_NAMES = [
  "lostOrStuck", "completedReRun", "orphans", "duplicateDecisions",
  "auditNotFinal", "chainFalseAlarms", "tamperingMissed", "healthzFailures", "wrongParseOutcomes",
] as const;
export type CountName = (typeof COUNT_NAMES)[number];
export type Counts = Record<CountName, number>;

export type Size = "small" | "full";

export interface ScenarioContext {
  size: Size;
  seed: number;
  rng: Rng;
  /** Progress lines (the runner prints them with the scenario's name; vitest keeps them quiet). */
  log: (line: string) => void;
  /** Undone in reverse order when the scenario ends, however it ends. */
  cleanup: Cleanup;
  /** The shared Redis for tests, or undefined when there is none. */
  redisUrl: string | undefined;
}

export interface Scenario {
  name: string;
  /** What it does, in one line (`npm run chaos -- --list`). */
  title: string;
  needsRedis: boolean;
  run(ctx: ScenarioContext, tally: Tally): Promise<void>;
}

export interface ScenarioResult {
  name: string;
  /** Only the counts the scenario measures; the others show as "-". */
  counts: Partial<Counts>;
  /** Worst time to load one pathological SOP (ms), for the parser scenario. */
  worstParseMs?: number;
  /** What each non-zero count was about, to reproduce and report it. */
  notes: string[];
  durationMs: number;
  /** The scenario itself broke (not a count): its error. */
  error?: string;
  skipped?: string;
}

/** The counts of one scenario as it measures them, with a note for everything counted. */
export class Tally {
  readonly counts: Partial<Counts> = {};
  readonly notes: string[] = [];
  worstParseMs: number | undefined;

  /** Declare that the scenario measures these counts (they show as 0 unless something is added). */
  measures(...names: CountName[]): void {
    for (const name of names) this.counts[name] ??= 0;
  }

  add(name: CountName, n: number, note?: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
    if (n > 0 && note !== undefined) this.notes.push(`${name} +${n}: ${note}`);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  parseTime(ms: number): void {
    this.worstParseMs = Math.max(this.worstParseMs ?? 0, ms);
  }
}

const active = new Set<Cleanup>();

/** Undo what every running scenario started (the runner calls this on SIGINT/SIGTERM). */
export async function cleanUpEverything(log: (line: string) => void = () => undefined): Promise<void> {
  await Promise.all([...active].map((c) => c.run(log)));
}

/** A stack of things to undo; each runs even when an earlier one fails. */
export class Cleanup {
  private readonly steps: { what: string; fn: () => unknown }[] = [];

  push(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }

  async run(log: (line: string) => void = () => undefined): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.fn();
      } catch (err) {
        log(`cleanup: ${step.what} failed: ${(err as Error).message}`);
      }
    }
  }
}

export interface RunOptions {
  size: Size;
  seed: number;
  rng: Rng;
  redisUrl: string | undefined;
  log?: (line: string) => void;
  /** Give up on a scenario that runs longer (it hangs): clean up and report an error. Default by size. */
  deadlineMs?: number;
}

const DEFAULT_DEADLINE_MS: Record<Size, number> = { small: 100_000, full: 15 * 60_000 };

/** Runs one scenario with its own cleanup; a scenario that throws reports the error, not counts. */
export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  if (scenario.needsRedis && opts.redisUrl === undefined) {
    return { name: scenario.name, counts: {}, notes: [], durationMs: 0, skipped: "no Redis (set REDIS_URL or install redis-server)" };
  }
  const cleanup = new Cleanup();
  active.add(cleanup);
  const tally = new Tally();
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS[opts.size];
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the scenario did not end within ${deadlineMs / 1000} s (something hangs); see the notes`)), deadlineMs);
  });
  try {
    await Promise.race([scenario.run({ size: opts.size, seed: opts.seed, rng: opts.rng, log, cleanup, redisUrl: opts.redisUrl }, tally), deadline]);
  } catch (err) {
    error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    clearTimeout(timer);
    await cleanup.run(log);
    active.delete(cleanup);
  }
  return {
    name: scenario.name,
    counts: tally.counts,
    ...(tally.worstParseMs !== undefined ? { worstParseMs: tally.worstParseMs } : {}),
    notes: tally.notes,
    durationMs: Date.now() - started,
    ...(error !== undefined ? { error } : {}),
  };
}

/** Whether a result passes: no error, every count 0, and (when measured) the worst parse within the limit. */
export function passed(result: ScenarioResult, parseLimitMs = 1000): boolean {
  if (result.error !== undefined) return false;
  if (Object.values(result.counts).some((n) => n !== 0)) return false;
  return result.worstParseMs === undefined || result.worstParseMs <= parseLimitMs;
}
