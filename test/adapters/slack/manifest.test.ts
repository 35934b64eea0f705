/** The app manifest people install from must declare what the adapter listens for and calls. */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../../adapters/slack/commands.ts";

const manifest = await readFile(new URL("../../../adapters/slack/manifest.yml", import.meta.url), "utf8");
const listed = (key: string): string[] => [...manifest.matchAll(new RegExp(`^\\s+${key}(\\S+)\\s*$`, "gm"))].map((m) => m[1]!);

describe("adapters/slack/manifest.yml", () => {
  it("declares the slash commands the adapter registers, the scopes it uses and the message events", () => {
    expect(listed("- command: ")).toEqual(COMMANDS.map((c) => `/${c}`));
    expect(listed("- ").filter((s) => /^[a-z.]+:[a-z.]+$|^commands$/.test(s))).toEqual(["commands", "chat:write", "channels:history", "groups:history", "usergroups:read"]);
    expect(listed("- ").filter((s) => s.startsWith("message."))).toEqual(["message.channels", "message.groups"]);
    expect(manifest).toMatch(/^ {2}interactivity:\n {4}is_enabled: true$/m);
    expect(manifest).toMatch(/^ {2}socket_mode_enabled: true$/m);
  });
});
