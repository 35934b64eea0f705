/** pino for `sop serve`: pretty lines on a terminal, JSON lines otherwise (containers, Procfile hosts). */
import { pino, type Logger } from "pino";

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export async function createLogger(opts: { level: string; pretty: boolean; destination?: NodeJS.WritableStream }): Promise<Logger> {
  const level = LEVELS.includes(opts.level) ? opts.level : "info";
  const options = { level, base: { service: "sop-runner" } };
  if (opts.pretty) {
    // Loaded only for a terminal: JSON logs need none of it.
    const { default: pretty } = await import("pino-pretty");
    // In-process stream, not a transport worker: start-up lines appear in order, at once. The
    // messages say it all for a person; the fields are for JSON logs (errors still show).
    return pino(options, pretty({ colorize: true, sync: true, ignore: "pid,hostname,service", translateTime: "HH:MM:ss", hideObject: true, ...(opts.destination ? { destination: opts.destination } : {}) }));
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
