/**
 * What the bot has posted about a run on one chat platform: the ids of its messages, so that a
 * later change edits them in place instead of posting again, and what each last showed. It lives
 * beside the runs (DATA_DIR or Redis) so a restarted bot keeps editing the same messages.
 */
export type Platform = "slack" | "discord";

export interface PostedMessage {
  /** Platform message id (Slack `ts`, Discord snowflake). */
  id: string;
  /** Digest of what it shows now; equal means nothing to edit. */
  digest: string;
}

export interface ChannelLedger {
  /** Message key (`progress`, `summary`, `approval:gate:x`, `detail:step:3:0` …) → message. */
  messages: Record<string, PostedMessage>;
}

export interface LedgerEntry {
  channels: Record<string, ChannelLedger>;
}

export interface MessageLedger {
  get(platform: Platform, runId: string): Promise<LedgerEntry | undefined>;
  put(platform: Platform, runId: string, entry: LedgerEntry): Promise<void>;
  /**
   * Hold the run's messages on this platform for `ttlMs`, so that two bot processes (Redis)
   * never post the same message twice. True when this caller holds them.
   */
  claim(platform: Platform, runId: string, owner: string, ttlMs: number): Promise<boolean>;
  unclaim(platform: Platform, runId: string, owner: string): Promise<void>;
}
