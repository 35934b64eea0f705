/**
 * A signed request from Slack runs once, however often it is sent within its five minutes, and
 * whichever `sop serve` it reaches. Bolt checks the signature and the date but keeps no memory,
 * so every request that passed claims its signature (which covers its date and body) in the
 * message ledger, shared by all processes through Redis; only the first claim goes on to the
 * listeners.
 *
 * Nothing is claimed before Bolt has checked the signature: the signature travels in the clear,
 * and a forged copy of a request must not be able to use up the real one. Bolt hands a request's
 * headers on only after the check (`customPropertiesExtractor`), and global middleware is where
 * something may wait for the ledger and decide that nothing runs.
 *
 * A repeat is answered 200 with nothing, not refused. Slack never sends the same signature
 * twice (it signs each retry afresh, or its last retry, five minutes on, would be stale), so a
 * repeat is a replay or a proxy that sent it twice; either way it was handled, and a 401 would
 * only tell a proxy or Slack to try again.
 */
import { randomUUID } from "node:crypto";
import type { AnyMiddlewareArgs, BufferedIncomingMessage, Middleware } from "@slack/bolt";
import type { Logger } from "../../src/app/logger.ts";
import { ephemeral, message } from "../../src/chat/chat-message.ts";
import type { MessageLedger } from "../../src/ports/message-ledger.ts";
import { CauseLog } from "./cause-log.ts";
import { postToResponseUrl, responseBody, responseUrlOf } from "./replies.ts";
import { rememberForMs } from "./request-freshness.ts";

/** What Bolt checked of a request: its date and signature. */
interface SignedRequest {
  timestamp: number;
  signature: string;
}

const KEY = "signedRequest";

/** Bolt's `customPropertiesExtractor`, which it calls only for a request whose signature passed. */
export function signedRequestOf(req: BufferedIncomingMessage): Record<string, SignedRequest> {
  const timestamp = Number(req.headers["x-slack-request-timestamp"]);
  const signature = req.headers["x-slack-signature"];
  return typeof signature === "string" && Number.isFinite(timestamp) ? { [KEY]: { timestamp, signature } } : {};
}

export interface RunOnceOptions {
  ledger: MessageLedger;
  now: () => number;
  log: Logger;
}

/** Global middleware: lets a signed request through the first time only. */
export function runOnce({ ledger, now, log }: RunOnceOptions): Middleware<AnyMiddlewareArgs> {
  const repeats = new CauseLog(log, "a request was answered and not run");
  const unchecked = new CauseLog(log, "requests are answered and not run");
  return async (args) => {
    const signed = args.context[KEY] as SignedRequest | undefined;
    // Only Bolt's signature check sets it, and every HTTP request passes that check to get here.
    if (!signed) return args.next();
    let first: boolean;
    try {
      first = await ledger.claim("slack", `request-${signed.signature}`, randomUUID(), rememberForMs(signed.timestamp, now()));
    } catch (err) {
      // Better a person who tries again than a request run twice.
      unchecked.failed(`cannot tell whether they ran before: ${err instanceof Error ? err.message : String(err)}`);
      await ackWithNothing(args);
      tellToRetry(args.body, log);
      return;
    }
    unchecked.recovered("requests are checked for repeats again");
    if (first) return args.next();
    repeats.failed("the same signed request came before (a replay, or a proxy that sent it twice)");
    await ackWithNothing(args);
  };
}

/** Events were acknowledged by Bolt already; commands, clicks and forms wait for this. */
async function ackWithNothing(args: AnyMiddlewareArgs): Promise<void> {
  if ("ack" in args && typeof args.ack === "function") await args.ack();
}

function tellToRetry(body: unknown, log: Logger): void {
  const url = responseUrlOf(body);
  if (!url) return;
  const reply = ephemeral(message({ title: "sop-runner could not check this request, so nothing was done; try again in a moment", tone: "failure" }));
  postToResponseUrl(url, responseBody(reply, true)).catch((err: unknown) => {
    log.warn({ platform: "slack", err }, `Slack: could not say that a request was not run: ${String(err)}`);
  });
}
