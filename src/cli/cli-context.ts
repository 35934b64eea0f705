import { createColors } from "picocolors";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export const EXIT = { ok: 0, runFailed: 1, usage: 2, waiting: 3, refused: 4 } as const;

/** What every command handler gets: its arguments, where to write, and colours for a TTY only. */
export interface CliContext {
  io: CliIo;
  color: ReturnType<typeof createColors>;
  json: boolean;
  /** `--quiet`: no step output among the progress lines. */
  quiet: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

export function makeContext(io: CliIo, json: boolean, quiet = false): CliContext {
  const color = createColors(io.isTTY && !io.env["NO_COLOR"]);
  return { io, color, json, quiet, out: (l) => io.stdout(`${l}\n`), err: (l) => io.stderr(`${l}\n`) };
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** `--var k=v` → { k: "v" }; values stay strings, conditions compare numbers numerically anyway. */
export function parseVars(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`--var takes name=value, got "${pair}"`);
    vars[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return vars;
}
