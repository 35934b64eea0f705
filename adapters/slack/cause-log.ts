/**
 * Logs a failure once per cause rather than once per attempt: an outage retried every few
 * seconds, or a lookup failing for every click, must not flood the log. A different cause is
 * logged again, and so is the recovery.
 */
import type { Logger } from "../../src/app/logger.ts";

export class CauseLog {
  private cause: string | undefined;

  constructor(private readonly log: Logger, private readonly what: string) {}

  get current(): string | undefined {
    return this.cause;
  }

  failed(cause: string, fields: object = {}): void {
    if (cause === this.cause) return;
    this.cause = cause;
    this.log.warn({ platform: "slack", ...fields, err: cause }, `Slack: ${this.what}: ${cause}`);
  }

  /** Forgets the cause without a word (the caller says something better). */
  clear(): void {
    this.cause = undefined;
  }

  recovered(message: string, fields: object = {}): void {
    if (this.cause === undefined) return;
    this.cause = undefined;
    this.log.info({ platform: "slack", ...fields }, `Slack: ${message}`);
  }
}
