/**
 * The local driver's message ledger: one small JSON file per run and platform under
 * `DATA_DIR/chat/`. One process holds DATA_DIR, so claims are kept in memory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../../audit/write-audit-file.ts";
import { systemClock, type Clock } from "../../ports/clock.ts";
import type { LedgerEntry, MessageLedger, Platform } from "../../ports/message-ledger.ts";

const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

export class FileMessageLedger implements MessageLedger {
  private readonly claims = new Map<string, { owner: string; until: number }>();

  /** `clock`: what claims expire by; default the system clock. */
  constructor(private readonly dataDir: string, private readonly clock: Clock = systemClock) {}

  private path(platform: Platform, runId: string): string {
    if (!SAFE_ID.test(runId)) throw new RangeError(`run id ${JSON.stringify(runId)} cannot name a file`);
    return join(this.dataDir, "chat", platform, `${runId}.json`);
  }

  async get(platform: Platform, runId: string): Promise<LedgerEntry | undefined> {
    try {
      return JSON.parse(await readFile(this.path(platform, runId), "utf8")) as LedgerEntry;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async put(platform: Platform, runId: string, entry: LedgerEntry): Promise<void> {
    await writeJsonAtomic(this.path(platform, runId), entry, { what: "chat ledger", durable: false });
  }

  async claim(platform: Platform, runId: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = `${platform}:${runId}`;
    const now = this.clock.now();
    // Claims on handled chat messages are never released, only left to expire: drop those.
    for (const [k, c] of this.claims) if (c.until <= now) this.claims.delete(k);
    const held = this.claims.get(key);
    if (held && held.owner !== owner && held.until > now) return false;
    this.claims.set(key, { owner, until: now + ttlMs });
    return true;
  }

  async unclaim(platform: Platform, runId: string, owner: string): Promise<void> {
    const key = `${platform}:${runId}`;
    if (this.claims.get(key)?.owner === owner) this.claims.delete(key);
  }
}
