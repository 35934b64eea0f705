/**
 * The `sop` command. `main` takes its arguments and io so tests can run it in-process.
 */
import { parseArgs } from "node:util";
import { readConfig } from "../main/config.ts";
import { EXIT, UsageError, makeContext, parseVars, type CliIo } from "./cli-context.ts";
import { listCommand } from "./commands/list.ts";
import { planCommand } from "./commands/plan.ts";
import { validateCommand } from "./commands/validate.ts";

export const USAGE = `usage: sop <command> [options]

  validate [DIR]                 check SOP folders; errors as file:line:col: message
  list                           the SOPs and their triggers
  plan NAME [--var k=v]…         which steps would run, skip or wait, and why

options: --sops DIR  --logs DIR  --json  --help`;

const OPTIONS = {
  sops: { type: "string" },
  logs: { type: "string" },
  json: { type: "boolean", default: false },
  var: { type: "string", multiple: true, default: [] as string[] },
  help: { type: "boolean", short: "h", default: false },
} as const;

function defaultIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

export async function main(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const ctx = makeContext(io, values.json);
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    (command === undefined && !values.help ? ctx.err : ctx.out)(USAGE);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  try {
    const config = readConfig(io.env, io.cwd);
    const sopsDir = values.sops ?? config.sopsDir;
    switch (command) {
      case "validate":
        return await validateCommand(ctx, args[0] ?? sopsDir);
      case "list":
        return await listCommand(ctx, sopsDir);
      case "plan":
        if (!args[0]) throw new UsageError("sop plan NAME [--var k=v]…");
        return await planCommand(ctx, sopsDir, args[0], parseVars(values.var));
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as Error).name === "ConfigError") {
      ctx.err(`${(err as Error).message}\n${USAGE}`);
      return EXIT.usage;
    }
    throw err;
  }
}
