/**
 * The `sop` command. `main` takes its arguments and io so tests can run it in-process.
 */
import { parseArgs } from "node:util";
import { readConfig } from "../config/config.ts";
import { EXIT, UsageError, makeContext, parseVars, type CliIo } from "./cli-context.ts";
import { connectServer } from "./http-client.ts";
import { withClient } from "./open-client.ts";
import { withDotEnv } from "../config/dot-env.ts";

// Each command imports what it needs when it runs (`await import` below), so `sop --help` loads
// none of it, `sop validate` only the SOP parser, and only `sop serve` loads the HTTP server.

export const USAGE = `usage: sop <command> [options]

  validate [DIR]                 check SOP folders; errors as file:line:col: message
  list                           the SOPs and their triggers
  plan NAME [--var k=v]…         which steps would run, skip or wait, and why
  run NAME [--var k=v]… [--approve-all] [--force]
                                 run it; on a TTY asks at each gate, else exits 3 while it waits
  status NAME|RUN_ID             an SOP's runs and metrics, or one run
  approve NAME [RUN_ID] [--comment TEXT]
  deny NAME [RUN_ID] [--reason TEXT]
  cancel NAME|RUN_ID
  trigger TEXT                   feed a command trigger, as a chat message would
  audit verify [DIR]             check the audit hash chains; exit 1 on any tampering
  serve                          the bot: HTTP API, web UI, triggers, hot reload (npm start)
  worker                         a queue worker only (needs REDIS_URL)

With a server up (SOP_SERVER_URL, default http://127.0.0.1:3000) list, plan, run, approve, deny,
cancel, status and trigger use its HTTP API (token: SOP_API_TOKEN or API_TOKENS); else in-process.

options: --sops DIR  --logs DIR  --json  --quiet (no step output while a run goes)  --help
exit codes: 0 success, 1 run failed/denied/cancelled/timed out, 2 usage or validation error,
            3 waiting for a person, 4 refused (cooldown, unknown SOP, nothing waiting, not allowed)`;

const OPTIONS = {
  sops: { type: "string" },
  logs: { type: "string" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", short: "q", default: false },
  var: { type: "string", multiple: true, default: [] as string[] },
  help: { type: "boolean", short: "h", default: false },
  "approve-all": { type: "boolean", default: false },
  force: { type: "boolean", default: false },
  comment: { type: "string" },
  reason: { type: "string" },
} as const;

/** Commands that go to a running server when one answers. */
const REMOTE = new Set(["run", "approve", "deny", "cancel", "status", "trigger", "list", "plan"]);

function defaultIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    // Node's types say boolean; it is undefined when the stream is not a terminal.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

function need(value: string | undefined, usage: string): string {
  if (value === undefined || value === "") throw new UsageError(usage);
  return value;
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
  const ctx = makeContext(io, values.json, values.quiet);
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    (command === undefined && !values.help ? ctx.err : ctx.out)(USAGE);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  try {
    const env = withDotEnv(io.env, io.cwd);
    const config = readConfig(env, io.cwd);
    const sopsDir = values.sops ?? config.sopsDir;
    const local = { ...config, sopsDir, logsDir: values.logs ?? config.logsDir };
    const remote = REMOTE.has(command) ? await connectServer(local, env) : undefined;
    if (remote && (values.sops !== undefined || values.logs !== undefined)) ctx.err(`note: using the server at ${remote.url}; --sops and --logs apply to in-process use only`);
    switch (command) {
      case "validate": {
        const { validateCommand } = await import("./commands/validate.ts");
        return await validateCommand(ctx, args[0] ?? sopsDir);
      }
      case "list": {
        const { listCommand } = await import("./commands/list.ts");
        return await withClient(ctx, remote, local, command, "folder", (c) => listCommand(ctx, c));
      }
      case "plan": {
        const name = need(args[0], "sop plan NAME [--var k=v]…");
        const vars = parseVars(values.var);
        const { planCommand } = await import("./commands/plan.ts");
        return await withClient(ctx, remote, local, command, "folder", (c) => planCommand(ctx, c, name, vars));
      }
      case "run": {
        const name = need(args[0], "sop run NAME [--var k=v]…");
        const { runCommand } = await import("./commands/run.ts");
        const flags = { vars: parseVars(values.var), approveAll: values["approve-all"], force: values.force, interactive: io.isTTY && process.stdin.isTTY && !values.json };
        return await withClient(ctx, remote, local, command, "node", (c) => runCommand(ctx, c, name, flags));
      }
      case "approve":
      case "deny": {
        const name = need(args[0], `sop ${command} NAME [RUN_ID]`);
        const text = command === "approve" ? values.comment : (values.reason ?? (args.slice(2).join(" ") || undefined));
        const { decideCommand } = await import("./commands/run.ts");
        return await withClient(ctx, remote, local, command, "node", (c) => decideCommand(ctx, c, command, name, args[1], text));
      }
      case "status": {
        const ref = need(args[0], "sop status NAME|RUN_ID");
        const { statusCommand } = await import("./commands/status.ts");
        return await withClient(ctx, remote, local, command, "look", (c) => statusCommand(ctx, c, ref));
      }
      case "cancel": {
        const ref = need(args[0], "sop cancel NAME|RUN_ID");
        const { cancelCommand } = await import("./commands/run.ts");
        return await withClient(ctx, remote, local, command, "node", (c) => cancelCommand(ctx, c, ref));
      }
      case "trigger": {
        const text = need(args.join(" ") || undefined, "sop trigger TEXT");
        const { triggerCommand } = await import("./commands/run.ts");
        return await withClient(ctx, remote, local, command, "node", (c) => triggerCommand(ctx, c, text));
      }
      case "serve": {
        const { serve } = await import("../main/serve.ts");
        return await serve({ env: io.env, cwd: io.cwd, isTTY: io.isTTY, stderr: io.stderr }, {
          ...(values.sops !== undefined ? { sopsDir: values.sops } : {}), ...(values.logs !== undefined ? { logsDir: values.logs } : {}),
        });
      }
      case "worker": {
        const { runWorker } = await import("../main/worker.ts");
        return await runWorker(env, (line) => ctx.err(line));
      }
      case "audit": {
        if (args[0] !== "verify") throw new UsageError("sop audit verify [DIR]");
        const [{ auditVerifyCommand }, { readChainHeads }] = await Promise.all([import("./commands/audit.ts"), import("../compose/store-readers.ts")]);
        return await auditVerifyCommand(ctx, args[1] ?? local.logsDir, () => readChainHeads({
          dataDir: local.dataDir, ...(local.redisUrl ? { redisUrl: local.redisUrl, redisPrefix: local.redis.prefix } : {}),
        }), local.redisUrl ? `Redis (prefix ${local.redis.prefix})` : local.dataDir);
      }
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
