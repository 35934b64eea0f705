/**
 * Polls `/healthz` of every serve that is up, about every 250 ms, and counts the answers that
 * are not 200 and the polls that get no answer in time. A serve being killed or started is
 * skipped, and an answer that comes from before a kill is dropped. While a dependency is down on
 * purpose (Redis restarted by the scenario), `excused()` lets a 503 pass: the bot must still
 * answer, and saying "degraded" then is the truth; no answer at all is always a failure.
 */
import type { ChaosServe } from "./fleet.ts";
import type { Tally } from "./harness.ts";

export interface HealthPollerOptions {
  intervalMs?: number;
  /** Longer than the store check's own 2 s limit, so a degraded answer is not taken for silence. */
  timeoutMs?: number;
  excused?: () => boolean;
}

export class HealthPoller {
  failures = 0;
  polls = 0;
  private readonly examples: string[] = [];
  private running = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Set<ChaosServe>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly targets: () => readonly ChaosServe[], private readonly opts: HealthPollerOptions = {}) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops polling and adds what it counted to the tally. */
  async stop(tally: Tally): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    await this.loop;
    await Promise.all([...this.pending]);
    tally.add("healthzFailures", this.failures, `${this.failures} of ${this.polls} polls of /healthz failed, e.g. ${this.examples.join("; ")}`);
  }

  private async run(): Promise<void> {
    const every = this.opts.intervalMs ?? 250;
    while (this.running) {
      for (const target of this.targets()) {
        if (!target.up || this.inflight.has(target)) continue;
        const p = this.poll(target).finally(() => this.pending.delete(p));
        this.pending.add(p);
      }
      await new Promise((r) => setTimeout(r, every));
    }
  }

  private async poll(target: ChaosServe): Promise<void> {
    this.inflight.add(target);
    const generation = target.generation;
    const excusedBefore = this.opts.excused?.() ?? false;
    const at = new Date().toISOString();
    let failure: string | undefined;
    let answered = false;
    try {
      const res = await fetch(`${target.url}/healthz`, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000) });
      answered = true;
      const body = await res.text();
      if (res.status !== 200) failure = `${target.name} answered ${res.status} at ${at}: ${body.slice(0, 200)}`;
    } catch (err) {
      failure = `${target.name} gave no answer at ${at}: ${(err as Error).message}`;
    } finally {
      this.inflight.delete(target);
    }
    // Killed (or restarted) meanwhile: whatever came back says nothing about a live bot.
    if (!target.up || target.generation !== generation) return;
    this.polls++;
    if (failure === undefined) return;
    if (answered && (excusedBefore || (this.opts.excused?.() ?? false))) return;
    this.failures++;
    if (this.examples.length < 5) this.examples.push(failure);
  }
}
