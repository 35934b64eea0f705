/**
 * Bolt, its Web API client and its Socket Mode client log through the bot's logger. Their info
 * lines are chatter next to our own "Slack: connected" and go to debug; their warnings and errors
 * stay, but a line repeated word for word (the same failed reconnect, every few seconds of an
 * outage) is logged once until something else is said.
 */
import { inspect } from "node:util";
import { LogLevel, type Logger as SlackLogger } from "@slack/bolt";
import type { Logger } from "../../src/app/logger.ts";

export function toSlackLogger(log: Logger): SlackLogger {
  let last = "";
  const emit = (level: "debug" | "warn" | "error", dedupe: boolean) => (...args: unknown[]): void => {
    const err = args.find((a): a is Error => a instanceof Error);
    const text = args
      .filter((a) => a !== err)
      .map((a) => (typeof a === "string" ? a : inspect(a, { depth: 3, breakLength: Infinity })))
      .join(" ") || err?.message || "";
    if (dedupe) {
      if (text === last) return;
      last = text;
    }
    log[level](err ? { platform: "slack", err: err.message } : { platform: "slack" }, `Slack: ${text}`);
  };
  let level = LogLevel.INFO;
  return {
    debug: emit("debug", false),
    info: emit("debug", false),
    warn: emit("warn", true),
    error: emit("error", true),
    // Bolt sets the level it was given; ours is LOG_LEVEL's, so this only answers getLevel.
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
