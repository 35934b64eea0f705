/**
 * A body over the limit, announced by Content-Length, is answered 413 only after the bytes in
 * flight are read and dropped (up to a cap). Answering at once and closing would leave unread
 * data in the socket, the kernel would reset the connection, and the client would see a broken
 * pipe instead of the 413 — the "lingering close" that nginx does for the same reason.
 */
import type { FastifyInstance } from "fastify";
import type { IncomingMessage } from "node:http";

const DRAIN_CAP_BYTES = 32 * 1024 * 1024;
const DRAIN_MS = 5000;

export function refuseLargeBodies(app: FastifyInstance, limitBytes: number): void {
  app.addHook("onRequest", async (req, reply) => {
    const length = Number(req.headers["content-length"] ?? 0);
    if (!(length > limitBytes)) return undefined;
    await drain(req.raw, Math.min(length, DRAIN_CAP_BYTES));
    const kib = Math.round(limitBytes / 1024);
    return reply.code(413).header("connection", "close").send({ error: `request body too large: ${length} bytes; the API takes at most ${kib} KiB of JSON`, code: "body_too_large" });
  });
}

function drain(stream: IncomingMessage, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    const stop = (): void => {
      clearTimeout(timer);
      stream.off("data", onData).off("end", stop).off("error", stop);
      stream.pause();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      read += chunk.length;
      if (read >= bytes) stop();
    };
    const timer = setTimeout(stop, DRAIN_MS);
    stream.on("data", onData).on("end", stop).on("error", stop);
    stream.resume();
  });
}
