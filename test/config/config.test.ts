/** The environment as SPEC §6 reads it: defaults, and a clear error for a half-configured platform. */
import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../src/config/config.ts";

const read = (env: Record<string, string>) => readConfig(env, "/nonexistent");

describe("readConfig", () => {
  it("turns no chat platform on by default", () => {
    const config = read({});
    expect(config.slack).toBeUndefined();
    expect(config.discord).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
  });

  it("reads Slack in HTTP mode, in Socket Mode, and its default channel and API URL", () => {
    expect(read({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s" }).slack).toEqual({ botToken: "xoxb-1", signingSecret: "s" });
    expect(read({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1", SLACK_CHANNEL: "C1", SLACK_API_URL: "http://127.0.0.1:9/api/" }).slack)
      .toEqual({ botToken: "xoxb-1", appToken: "xapp-1", channel: "C1", apiUrl: "http://127.0.0.1:9/api/" });
  });

  it("says what is missing when a platform is half configured", () => {
    expect(() => read({ SLACK_BOT_TOKEN: "xoxb-1" })).toThrow(new ConfigError("SLACK_BOT_TOKEN is set without SLACK_SIGNING_SECRET (HTTP at POST /slack/events) or SLACK_APP_TOKEN (Socket Mode)"));
    expect(() => read({ SLACK_APP_TOKEN: "xapp-1" })).toThrow(/SLACK_BOT_TOKEN is not set/);
    expect(() => read({ DISCORD_TOKEN: "t" })).toThrow(new ConfigError("DISCORD_APPLICATION_ID is not set: Discord needs both the bot token and the application id"));
    expect(() => read({ DISCORD_APPLICATION_ID: "1" })).toThrow(/DISCORD_TOKEN is not set/);
  });

  it("reads Discord with its guild, channel and API URL, and the public URL without a trailing slash", () => {
    const config = read({ DISCORD_TOKEN: "t", DISCORD_APPLICATION_ID: "1", DISCORD_GUILD_ID: "2", DISCORD_CHANNEL_ID: "3", DISCORD_API_URL: "http://127.0.0.1:9/api", SOP_PUBLIC_URL: "https://sop.example.com/" });
    expect(config.discord).toEqual({ token: "t", applicationId: "1", guildId: "2", channelId: "3", apiUrl: "http://127.0.0.1:9/api" });
    expect(config.publicUrl).toBe("https://sop.example.com");
  });

  it("keeps SOP_REDIS_PREFIX as written and refuses one Redis would not keep in one hash slot", () => {
    expect(read({}).redis.prefix).toBe("sop");
    expect(read({ SOP_REDIS_PREFIX: "acme:{sop}" }).redis.prefix).toBe("acme:{sop}");
    expect(() => read({ SOP_REDIS_PREFIX: "{}" })).toThrow(new ConfigError(
      'SOP_REDIS_PREFIX "{}" is not usable: braces make a Redis hash tag: write at most one, with something inside (sop, {sop} or acme:{sop}); without braces the prefix is wrapped in one',
    ));
    expect(() => read({ SOP_REDIS_PREFIX: "{a}{b}" })).toThrow(ConfigError);
    expect(() => read({ SOP_REDIS_PREFIX: "so p" })).toThrow(/no spaces or glob characters/);
  });

  it("keeps ended runs 30 days by default, as SOP_RETENTION_DAYS says, forever with 0 or off, and refuses anything else by name", () => {
    expect(read({}).retentionDays).toBe(30);
    expect(read({ SOP_RETENTION_DAYS: "7" }).retentionDays).toBe(7);
    expect(read({ SOP_RETENTION_DAYS: "0.5" }).retentionDays).toBe(0.5);
    expect(read({ SOP_RETENTION_DAYS: "0" })).not.toHaveProperty("retentionDays");
    expect(read({ SOP_RETENTION_DAYS: "OFF" })).not.toHaveProperty("retentionDays");
    expect(() => read({ SOP_RETENTION_DAYS: "a month" })).toThrow(new ConfigError(
      'SOP_RETENTION_DAYS must be a number of days > 0 (default 30), or 0 or "off" to keep ended runs forever; got "a month"',
    ));
    expect(() => read({ SOP_RETENTION_DAYS: "-3" })).toThrow(/SOP_RETENTION_DAYS/);
  });
});
