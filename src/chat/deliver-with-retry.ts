/**
 * One message that is not part of a run's projection (the answer to a message trigger) but
 * must not be lost either: sent in the background, retried after a rate limit's Retry-After or
 * with backoff, and given up only after an hour, with a log line.
 */
import type { Logger } from "../app/logger.ts";
import { DeliveryError } from "./notifier.ts";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;
const GIVE_UP_AFTER_MS = 3600_000;

/** A wait that does not keep a stopping process alive. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

export function deliverWithRetry(what: string, send: () => Promise<unknown>, log: Logger, sleep: (ms: number) => Promise<unknown> = pause): Promise<boolean> {
  return (async () => {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await send();
        return true;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const wait = err instanceof DeliveryError && err.retryAfterMs !== undefined ? err.retryAfterMs : Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
        if (Date.now() + wait - started > GIVE_UP_AFTER_MS) {
          log.error({ what, err: message }, `${what}: not delivered after an hour of retries; given up`);
          return false;
        }
        if (attempt === 0) log.warn({ what, err: message }, `${what}: not delivered, will retry: ${message}`);
        await sleep(wait);
      }
    }
  })();
}
