/** The logging surface the app needs; pino satisfies it, and tests pass a silent one. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** Plain stderr lines, for the CLI where structured logs would be noise. */
export function stderrLogger(write: (line: string) => void, debug = false): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    const extra = Object.entries(obj).filter(([k]) => k !== "err").map(([k, v]) => `${k}=${String(v)}`).join(" ");
    write(`${level}: ${msg ?? ""}${extra ? ` (${extra})` : ""}`);
  };
  return { info: () => {}, warn: line("warning"), error: line("error"), debug: debug ? line("debug") : () => {} };
}
