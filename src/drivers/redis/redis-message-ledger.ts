/**
 * The Redis driver's message ledger: a JSON string per run and platform that expires a month
 * after its last change, and a claim key (SET NX PX) so that only one bot process at a time
 * posts or edits a run's messages.
 */
import type { RedisClient } from "./redis-connection.ts";
import type { RedisKeys } from "./redis-keys.ts";
import type { LedgerEntry, MessageLedger, Platform } from "../../ports/message-ledger.ts";

const KEEP_SECS = 30 * 24 * 3600;

/** Delete the claim only when it is still ours: it may have expired and been taken since. */
const UNCLAIM = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

export class RedisMessageLedger implements MessageLedger {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  private key(platform: Platform, runId: string): string {
    return this.keys.chat(platform, runId);
  }

  async get(platform: Platform, runId: string): Promise<LedgerEntry | undefined> {
    const text = await this.redis.get(this.key(platform, runId));
    return text === null ? undefined : (JSON.parse(text) as LedgerEntry);
  }

  async put(platform: Platform, runId: string, entry: LedgerEntry): Promise<void> {
    await this.redis.set(this.key(platform, runId), JSON.stringify(entry), "EX", KEEP_SECS);
  }

  async claim(platform: Platform, runId: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = this.keys.chatClaim(platform, runId);
    if ((await this.redis.set(key, owner, "PX", ttlMs, "NX")) === "OK") return true;
    // Our own claim is renewed, so a long reconcile keeps it.
    if ((await this.redis.get(key)) !== owner) return false;
    await this.redis.pexpire(key, ttlMs);
    return true;
  }

  async unclaim(platform: Platform, runId: string, owner: string): Promise<void> {
    await this.redis.eval(UNCLAIM, 1, this.keys.chatClaim(platform, runId), owner);
  }
}
