/**
 * The app manifest people install from must declare what the adapter listens for and calls.
 * No YAML parser is among the dependencies, so the file is read by indentation, which is all
 * this manifest uses: each key's block is the lines indented under it.
 */
import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../../adapters/slack/commands.ts";

const dir = new URL("../../../adapters/slack/", import.meta.url);
const manifest = await readFile(new URL("manifest.yml", dir), "utf8");
const lines = manifest.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
const indent = (line: string): number => line.length - line.trimStart().length;

/** The lines under the key reached by `path`, one level of nesting per name. */
function block(...path: string[]): string[] {
  let scope = lines;
  for (const key of path) {
    const at = scope.findIndex((l) => l.trim() === `${key}:` || l.trim().startsWith(`${key}: `));
    expect(at, `${path.join(".")}: no ${key}`).toBeGreaterThanOrEqual(0);
    const depth = indent(scope[at]!);
    const end = scope.findIndex((l, i) => i > at && indent(l) <= depth && !l.trim().startsWith("- "));
    scope = scope.slice(at + 1, end < 0 ? undefined : end);
  }
  return scope;
}

/** A block's list items, when they are plain words. */
const items = (block: string[]): string[] => block.filter((l) => l.trim().startsWith("- ")).map((l) => l.trim().slice(2));
const value = (block: string[], key: string): string | undefined => block.find((l) => l.trim().startsWith(`${key}: `))?.trim().slice(key.length + 2);

/** The Web API methods the adapter calls, and the bot scope each needs (none: the method needs no scope). */
const SCOPE_OF: Record<string, string | null> = {
  "chat.postMessage": "chat:write",
  "chat.update": "chat:write",
  "usergroups.users.list": "usergroups:read",
  "views.open": null,
};

describe("adapters/slack/manifest.yml", () => {
  it("declares the slash commands the adapter registers, each with the text as typed", () => {
    const commands = block("features", "slash_commands");
    expect(commands.filter((l) => l.trim().startsWith("- ")).map((l) => l.trim())).toEqual(COMMANDS.map((c) => `- command: /${c}`));
    expect(commands.filter((l) => l.trim() === "should_escape: false")).toHaveLength(COMMANDS.length);
    expect(commands.filter((l) => l.trim().startsWith("description: "))).toHaveLength(COMMANDS.length);
    expect(value(block("features", "bot_user"), "display_name")).toBe("sop-runner");
  });

  it("asks for exactly the bot scopes the adapter needs, among them every scope of the Web API methods it calls", async () => {
    const scopes = items(block("oauth_config", "scopes", "bot"));
    expect(scopes).toEqual(["commands", "chat:write", "channels:history", "groups:history", "usergroups:read"]);
    const sources = await Promise.all((await readdir(dir)).filter((f) => f.endsWith(".ts")).map((f) => readFile(new URL(f, dir), "utf8")));
    const called = new Set(sources.flatMap((src) => [...src.matchAll(/\bclient\.([a-z]+(?:\.[a-zA-Z]+)+)\(/g)].map((m) => m[1]!)));
    expect([...called].sort()).toEqual(Object.keys(SCOPE_OF).sort());
    for (const method of called) {
      const scope = SCOPE_OF[method];
      if (scope) expect(scopes, `${method} needs ${scope}`).toContain(scope);
    }
  });

  it("subscribes to the message events of public and private channels, and turns on buttons and Socket Mode", () => {
    expect(items(block("settings", "event_subscriptions", "bot_events"))).toEqual(["message.channels", "message.groups"]);
    expect(value(block("settings", "interactivity"), "is_enabled")).toBe("true");
    expect(value(block("settings"), "socket_mode_enabled")).toBe("true");
    expect(value(block("settings"), "token_rotation_enabled")).toBe("false");
    expect(manifest).not.toMatch(/\t/);
  });
});
