/**
 * Run notifications on one chat platform, kept as a projection of the run: an event only marks
 * its run as changed; the notifier then reads the run as it stands and brings the channel's
 * messages up to date (post what is missing, edit what shows something else), recording each
 * message in the ledger as soon as it is posted. So a burst of events costs one edit, a message
 * lost to a rate limit or an outage is delivered later (never dropped), a restarted bot edits
 * the messages it posted before, and nothing here ever waits in a run's path.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "../app/logger.ts";
import type { SopRunner } from "../app/sop-runner.ts";
import { isTerminal, OPEN_STATUSES } from "../core/run/run-state.ts";
import type { SopDefinition } from "../core/sop/types.ts";
import type { LedgerEntry, MessageLedger, Platform, PostedMessage } from "../ports/message-ledger.ts";
import type { ChatMessage } from "./chat-message.ts";
import { definitionChanges } from "./definition-change.ts";
import {
  checkpointMessage, finishedSteps, progressMessage, stepDetailMessage, summaryMessage,
  type MessageContext, type RunSnapshot,
} from "./run-messages.ts";
import { systemClock, type Clock } from "../ports/clock.ts";

/** Where notifications go on one platform; what an adapter implements. */
export interface ChatSurface {
  readonly platform: Platform;
  /** The SOP's `[notify]` channels on this platform, or the default channel; none: no notifications. */
  channelsFor(def: SopDefinition): string[];
  /** Posts and returns the new message's id; in the thread of `thread` when given. */
  post(channel: string, message: ChatMessage, thread?: string): Promise<string>;
  update(channel: string, id: string, message: ChatMessage): Promise<void>;
}

/** A delivery that may succeed later; `retryAfterMs` when the platform said when (429). */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The message to edit is no longer there (someone deleted it): post it again. */
export class MessageGoneError extends DeliveryError {
  override name = "MessageGoneError";
}

export interface NotifierOptions {
  runner: SopRunner;
  /** Which messages this platform holds for each run, and who is updating them now. */
  ledger: MessageLedger;
  surface: ChatSurface;
  context: MessageContext;
  log: Logger;
  onFailure?: (platform: Platform) => void;
  /** Runs that ended this long before start still get their summary (default one hour). */
  catchUpMs?: number;
  /**
   * How often to look over the runs that are going anyway (default two minutes): an event lost
   * with a dropped Redis connection must not leave a message stale for good.
   */
  sweepMs?: number;
  /** What retries, pauses and the sweep wait on; default the system clock. */
  clock?: Clock;
}

export interface NotifierHealth {
  /** Runs whose messages are not up to date yet. */
  pending: number;
  /** The last delivery failure, while deliveries fail. */
  failing?: string;
}

interface Desired {
  key: string;
  message: ChatMessage;
  /** Key of the message whose thread it belongs in. */
  thread?: string;
}

const CLAIM_MS = 60_000;
/** A run that ended is sealed into the audit chain a moment later; its summary then shows the hash. */
const SEAL_LOOK_MS = 500;
const SEAL_LOOKS = 20;
const FIRST_RETRY_MS = 1000;
/** A rate limit that says "retry after 0" still gets a breath, or the loop would spin. */
const MIN_PAUSE_MS = 250;
const MAX_RETRY_MS = 5 * 60_000;

const digest = (m: ChatMessage): string => createHash("sha256").update(JSON.stringify(m)).digest("base64url").slice(0, 22);

export class ChatNotifier {
  private readonly dirty = new Set<string>();
  private readonly retries = new Map<string, { attempt: number; cancel?: () => void }>();
  private readonly sealLooks = new Map<string, number>();
  private readonly owner = randomUUID();
  private readonly clock: Clock;
  private unsubscribe: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private pausedUntil = 0;
  private cancelPause: (() => void) | undefined;
  private cancelSweep: (() => void) | undefined;
  private failing: string | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: NotifierOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** Listen to run events, and bring up to date the runs that changed while the bot was away. */
  async start(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe = this.o.runner.events.subscribe((event) => this.mark(event.runId));
    const sweep = (): void => {
      this.o.runner.runs({ statuses: OPEN_STATUSES }).then(
        (runs) => { for (const run of runs) this.mark(run.id); },
        (err: unknown) => this.o.log.warn({ platform: this.o.surface.platform, err }, "notifications: cannot list the runs going"),
      );
      if (!this.closed) this.cancelSweep = this.clock.schedule(sweep, this.o.sweepMs ?? 120_000);
    };
    this.cancelSweep = this.clock.schedule(sweep, this.o.sweepMs ?? 120_000);
    // A store that cannot answer now (Redis restarting) must not keep the adapter from
    // connecting: the sweep and the next events catch up instead.
    const since = this.clock.now() - (this.o.catchUpMs ?? 3600_000);
    try {
      // The runs going on, and those that ended lately: never the whole history.
      const [going, ended] = await Promise.all([this.o.runner.runs({ statuses: OPEN_STATUSES }), this.o.runner.endedSince(since)]);
      for (const run of going) this.mark(run.id);
      for (const id of ended) this.mark(id);
    } catch (err) {
      this.o.log.warn({ platform: this.o.surface.platform, err }, `${this.o.surface.platform}: cannot list the runs to catch up on; the next sweep will`);
    }
  }

  /** The run changed (or a click found its message stale): its messages get brought up to date. */
  mark(runId: string): void {
    if (this.closed) return;
    this.dirty.add(runId);
    this.kick();
  }

  health(): NotifierHealth {
    return { pending: this.dirty.size + this.retries.size, ...(this.failing ? { failing: this.failing } : {}) };
  }

  /** Resolves once every marked run is up to date or waits for a retry. */
  idle(): Promise<void> {
    if (!this.loop && this.dirty.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.cancelSweep?.();
    this.cancelPause?.();
    for (const r of this.retries.values()) r.cancel?.();
    this.retries.clear();
    this.dirty.clear();
    await this.loop;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private kick(): void {
    if (this.loop || this.closed) return;
    const wait = this.pausedUntil - this.clock.now();
    if (wait > 0) {
      this.cancelPause?.();
      this.cancelPause = this.clock.schedule(() => this.kick(), wait);
      return;
    }
    this.loop = this.drain().finally(() => {
      this.loop = undefined;
      if (this.dirty.size > 0 && !this.closed) this.kick();
      else for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  /** One run at a time: gentle on the platform's rate limits, and a run's messages keep their order. */
  private async drain(): Promise<void> {
    while (!this.closed && this.dirty.size > 0 && this.pausedUntil <= this.clock.now()) {
      const next = this.dirty.values().next();
      if (next.done) break;
      const runId = next.value;
      this.dirty.delete(runId);
      try {
        await this.reconcile(runId);
        this.delivered(runId);
      } catch (err) {
        this.failed(runId, err);
      }
    }
  }

  private delivered(runId: string): void {
    const retry = this.retries.get(runId);
    if (retry) {
      retry.cancel?.();
      this.retries.delete(runId);
    }
    if (this.failing && this.retries.size === 0) {
      this.o.log.info({ platform: this.o.surface.platform }, `${this.o.surface.platform}: notifications delivered again`);
      this.failing = undefined;
    }
  }

  private failed(runId: string, err: unknown): void {
    const platform = this.o.surface.platform;
    this.o.onFailure?.(platform);
    const cause = err instanceof Error ? err.message : String(err);
    // Logged once per cause, not once per message: an outage must not flood the log.
    if (cause !== this.failing) this.o.log.warn({ platform, runId, err: cause }, `${platform}: notification not delivered, will retry: ${cause}`);
    this.failing = cause;
    if (err instanceof DeliveryError && err.retryAfterMs !== undefined) {
      // A rate limit holds for the whole platform: wait it out, then carry on where we were.
      this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + Math.max(err.retryAfterMs, MIN_PAUSE_MS));
      this.dirty.add(runId);
      return;
    }
    const retry = this.retries.get(runId) ?? { attempt: 0 };
    retry.cancel?.();
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retry.attempt);
    retry.attempt++;
    retry.cancel = this.clock.schedule(() => this.mark(runId), delay);
    this.retries.set(runId, retry);
  }

  private async reconcile(runId: string): Promise<void> {
    const { runner, surface } = this.o;
    if (!(await this.holdClaim(runId))) {
      // Another bot process is on it; look again later in case it stops half-way.
      this.clock.schedule(() => this.mark(runId), 2000);
      return;
    }
    try {
      const snapshot = await runner.snapshot(runId);
      if (!snapshot) return;
      const channels = surface.channelsFor(snapshot.stored.definition);
      if (channels.length === 0) return;
      const entry: LedgerEntry = (await this.o.ledger.get(surface.platform, runId)) ?? { channels: {} };
      const desired = this.desired({ ...snapshot, changes: await definitionChanges(runner, snapshot.stored) });
      // One channel that fails (archived, the bot removed) must not keep the others waiting.
      await this.eachApart(channels, (channel) => this.sync(runId, channel, desired, entry));
      this.lookForSeal(snapshot);
    } catch (err) {
      if (!(err instanceof Interrupted)) throw err;
      this.clock.schedule(() => this.mark(runId), 2000);
    } finally {
      await this.o.ledger.unclaim(surface.platform, runId, this.owner);
    }
  }

  /** Take or renew the claim on the run's messages; before every call, so a slow platform never lets two processes post. */
  private holdClaim(runId: string): Promise<boolean> {
    return this.o.ledger.claim(this.o.surface.platform, runId, this.owner, CLAIM_MS);
  }

  private lookForSeal(snapshot: RunSnapshot): void {
    const { run } = snapshot.stored;
    if (!isTerminal(run.status) || snapshot.stored.seal) {
      this.sealLooks.delete(run.id);
      return;
    }
    const looks = this.sealLooks.get(run.id) ?? 0;
    if (looks >= SEAL_LOOKS) return;
    this.sealLooks.set(run.id, looks + 1);
    this.clock.schedule(() => this.mark(run.id), SEAL_LOOK_MS);
  }

  private desired(snapshot: RunSnapshot): Desired[] {
    const ctx = this.o.context;
    const { run } = snapshot.stored;
    const out: Desired[] = [{ key: "progress", message: progressMessage(snapshot, ctx) }];
    for (const cp of run.checkpoints) out.push({ key: `checkpoint:${cp.id}`, message: checkpointMessage(snapshot, cp, ctx) });
    for (const step of finishedSteps(snapshot.record)) {
      out.push({ key: `step:${step.number}`, message: stepDetailMessage(step), thread: "progress" });
    }
    if (isTerminal(run.status)) out.push({ key: "summary", message: summaryMessage(snapshot, ctx) });
    return out;
  }

  /** Every message of one channel; one that fails does not hold back the others, except its thread replies. */
  private async sync(runId: string, channel: string, desired: Desired[], entry: LedgerEntry): Promise<void> {
    const posted = (entry.channels[channel] ??= { messages: {} }).messages;
    await this.eachApart(desired, (d) => this.deliver(runId, channel, d, entry, posted));
  }

  /**
   * `fn` for each item, in order, where one that fails does not stop the rest; the first
   * failure is thrown at the end. A rate limit (the whole platform waits) and an interruption
   * stop everything at once; so does closing: what is left is caught up at the next start.
   */
  private async eachApart<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let failure: Error | undefined;
    for (const item of items) {
      if (this.closed) throw new Interrupted();
      try {
        await fn(item);
      } catch (err) {
        if (isRateLimit(err) || err instanceof Interrupted) throw err;
        // Whatever was thrown, the first failure is kept: a thrown undefined must not pass for success.
        failure ??= err instanceof Error ? err : new Error(`a delivery failed with a non-Error: ${String(err)}`, { cause: err });
      }
    }
    if (failure) throw failure;
  }

  private async deliver(runId: string, channel: string, d: Desired, entry: LedgerEntry, posted: Record<string, PostedMessage>): Promise<void> {
    const { surface } = this.o;
    const sum = digest(d.message);
    const have = posted[d.key];
    if (have?.digest === sum) return;
    const thread = d.thread === undefined ? undefined : posted[d.thread]?.id;
    if (d.thread !== undefined && thread === undefined) throw new DeliveryError(`${d.key} waits for its ${d.thread} message to be posted`);
    if (!(await this.holdClaim(runId))) throw new Interrupted();
    if (have) {
      try {
        await surface.update(channel, have.id, d.message);
        posted[d.key] = { id: have.id, digest: sum };
      } catch (err) {
        if (!(err instanceof MessageGoneError)) throw err;
        // Someone deleted it: what it showed must still be seen, so it is posted again.
        this.o.log.info({ platform: surface.platform, runId, channel, key: d.key }, `${surface.platform}: a message of run ${runId} was deleted; posting it again`);
        posted[d.key] = { id: await surface.post(channel, d.message, thread), digest: sum };
      }
    } else {
      posted[d.key] = { id: await surface.post(channel, d.message, thread), digest: sum };
    }
    // Written before the next call. A crash between the post and this write posts the message
    // once more after a restart; the other order would lose it.
    await this.o.ledger.put(surface.platform, runId, entry);
  }
}

/** Our claim expired during a slow call (another process takes the run over), or we are closing. */
class Interrupted extends Error {
  override name = "Interrupted";
}

const isRateLimit = (err: unknown): boolean => err instanceof DeliveryError && err.retryAfterMs !== undefined;
