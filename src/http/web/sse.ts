/**
 * Server-sent events for one run: a small JSON per run event, which the run page answers by
 * re-fetching its live fragment. Streams are tracked so the server can end them when it closes
 * (an open event stream would otherwise hold `app.close()` forever).
 */
import type { ServerResponse } from "node:http";
import type { FastifyReply } from "fastify";
import type { RunEvent } from "../../core/run/effects.ts";
import type { EventBus } from "../../ports/event-bus.ts";
import { SECURITY_HEADERS } from "./security-headers.ts";

const HEARTBEAT_MS = 15_000;
/** How long a browser waits before reconnecting a dropped stream. */
const RETRY_MS = 2_000;

export class RunStreams {
  private readonly open = new Map<ServerResponse, () => void>();

  constructor(private readonly events: Pick<EventBus, "subscribe">) {}

  /**
   * Take over the response and stream the run's events. `status` is read after subscribing,
   * so an event between the two is never lost: the snapshot or the event covers it.
   */
  async stream(reply: FastifyReply, runId: string, status: () => Promise<{ status: string; final: boolean }>): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Proxies such as nginx buffer responses unless told not to; events must arrive at once.
      "x-accel-buffering": "no",
    });
    const send = (data: object) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    // Widened by hand: `end` sets it from callbacks, which the compiler's narrowing does not see.
    let ended = false as boolean;
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      clearInterval(beat);
      this.open.delete(res);
      res.end();
    };
    const unsubscribe = this.events.subscribe((e: RunEvent) => {
      if (e.runId !== runId || ended) return;
      send(eventJson(e));
      if (e.type === "run_finished") end();
    });
    const beat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
    beat.unref();
    this.open.set(res, end);
    res.on("close", end);
    res.write(`retry: ${RETRY_MS}\n\n`);
    try {
      const now = await status();
      if (ended) return;
      send({ type: "snapshot", runId, status: now.status });
      if (now.final) end();
    } catch (err) {
      end();
      throw err;
    }
  }

  closeAll(): void {
    for (const end of [...this.open.values()]) end();
  }
}

/** Only what the page needs; `at` as ISO so it reads the same as the audit record. */
function eventJson(e: RunEvent): object {
  // The rest is what the kind carries: step, checkpoint, status, by.
  const { type, runId, sop, at, ...rest } = e;
  return { type, runId, sop, at: new Date(at).toISOString(), ...rest };
}
