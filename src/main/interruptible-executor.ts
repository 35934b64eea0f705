/**
 * Wraps the step executor so the bot can stop without finishing its running steps. When the
 * shutdown grace runs out, `interrupt()` kills each running command's process group and keeps
 * the engine from recording a result, so the step stays `running` in the store and is recovered
 * as after a crash (SPEC §3: failed "interrupted", or re-run when it has retries):
 * - "reject" (local driver): `run` rejects; the queue job ends, the runner closes cleanly, and
 *   the next start recovers the step.
 * - "abandon" (Redis): `run` never settles; the job stays active until this process exits and
 *   its lock expires, then BullMQ hands it to another worker, which recovers the step.
 */
import type { CommandResult, CommandSpec, StepExecutor } from "../ports/step-executor.ts";

export class InterruptedByShutdown extends Error {
  override name = "InterruptedByShutdown";
  constructor() {
    super("the bot is shutting down; the step is left for recovery (failed: interrupted, or retried)");
  }
}

const KILL_WAIT_MS = 10_000;

export class InterruptibleExecutor implements StepExecutor {
  private readonly running = new Set<AbortController>();
  private mode: "reject" | "abandon" | undefined;

  constructor(private readonly inner: StepExecutor) {}

  /** Commands running now. */
  get size(): number {
    return this.running.size;
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    if (this.mode !== undefined) return this.interrupted();
    const own = new AbortController();
    const signal = spec.signal ? AbortSignal.any([spec.signal, own.signal]) : own.signal;
    this.running.add(own);
    let result: CommandResult;
    try {
      result = await this.inner.run({ ...spec, signal });
    } finally {
      // Gone from the set once its process is gone, whatever the engine is told next.
      this.running.delete(own);
    }
    return own.signal.aborted ? this.interrupted() : result;
  }

  /** Kill every running command and refuse new ones; resolves once their processes are gone. */
  async interrupt(mode: "reject" | "abandon"): Promise<void> {
    this.mode ??= mode;
    for (const c of this.running) c.abort();
    const deadline = Date.now() + KILL_WAIT_MS;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private interrupted(): Promise<never> {
    if (this.mode === "abandon") return new Promise<never>(() => undefined);
    return Promise.reject(new InterruptedByShutdown());
  }
}
