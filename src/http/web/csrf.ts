/**
 * CSRF tokens: one random token per session, sent back in a hidden `_csrf` field by every form
 * that changes something. SameSite=Strict already keeps the cookie off cross-site requests;
 * the token is the second lock, for browsers or proxies that get SameSite wrong.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const CSRF_FIELD = "_csrf";

export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Constant-time equality of two strings of any length: comparing digests keeps both the
 * content and the length of the expected value out of the timing.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function validCsrf(given: unknown, expected: string): boolean {
  return typeof given === "string" && given !== "" && sameSecret(given, expected);
}
