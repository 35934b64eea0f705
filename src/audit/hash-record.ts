import { createHash } from "node:crypto";
import { canonicalJson } from "../core/audit/canonical-json.ts";

/** The `prev_hash` of an SOP's first final record (seq 1). */
export const GENESIS_HASH = "0".repeat(64);

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 hex of the record's canonical JSON, leaving out its own `hash` member. */
export function hashRecord(record: Record<string, unknown>): string {
  const { hash: _hash, ...content } = record;
  return createHash("sha256").update(canonicalJson(content), "utf8").digest("hex");
}

/**
 * Returns a copy of a final record linked into its SOP's chain: `seq` and `prev_hash` as given
 * (both assigned atomically by the store, never from a local counter), then `hash` over the
 * whole. Throws a RangeError on a seq that is not a positive integer or a prev hash that is not
 * SHA-256 hex, since a bad link would only surface later as a false tamper report.
 */
export function sealRecord<T extends Record<string, unknown>>(
  record: T,
  link: { seq: number; prevHash: string },
): T & { seq: number; prev_hash: string; hash: string } {
  if (!Number.isSafeInteger(link.seq) || link.seq < 1) {
    throw new RangeError(`cannot seal audit record: seq must be a positive integer, got ${link.seq}`);
  }
  if (!SHA256_HEX.test(link.prevHash)) {
    throw new RangeError(`cannot seal audit record: prev hash must be 64 lowercase hex digits, got ${JSON.stringify(link.prevHash)}`);
  }
  const linked = { ...record, seq: link.seq, prev_hash: link.prevHash };
  return { ...linked, hash: hashRecord(linked) };
}
