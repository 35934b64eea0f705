/**
 * Bearer tokens from API_TOKENS (`name:token`). A token's name is the actor `api:<name>`.
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, and every configured token is
 * compared on every request, so neither a token's length nor its position leaks through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

type Tokens = ReadonlyMap<string, string>;

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();
const digests = new WeakMap<Tokens, { name: string; digest: Buffer }[]>();

function digestsOf(tokens: Tokens): { name: string; digest: Buffer }[] {
  let list = digests.get(tokens);
  if (!list) {
    list = [...tokens].map(([name, token]) => ({ name, digest: digest(token) }));
    digests.set(tokens, list);
  }
  return list;
}

/** The actor (`api:<name>`) a raw token belongs to, or undefined. */
export function actorForToken(tokens: Tokens, token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  const presented = digest(token);
  let found: string | undefined;
  for (const { name, digest: known } of digestsOf(tokens)) {
    if (timingSafeEqual(presented, known) && found === undefined) found = name;
  }
  return found === undefined ? undefined : `api:${found}`;
}

/** The actor an `Authorization: Bearer <token>` header names, or undefined (answer 401). */
export function authenticate(tokens: Tokens, header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return actorForToken(tokens, match?.[1]);
}

/** A fresh token for `sop serve` without API_TOKENS: 32 random bytes, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}
