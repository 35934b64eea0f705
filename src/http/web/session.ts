/**
 * Browser sessions: an HttpOnly, SameSite=Strict cookie that carries the API token name it was
 * exchanged for and its expiry, signed with the session key (HMAC-SHA256). Nothing about a
 * session lives only in the process, so it survives a restart of `sop serve`, and any server
 * with the same key (SOP_SESSION_SECRET) accepts it. The signature also covers a digest of the
 * token itself: a session outlives no token, and a token changed under the same name ends the
 * sessions the old one opened. The CSRF secret is derived from the cookie with the same key.
 *
 * What stays in memory: the flash message for the next page, and logouts (a logged-out cookie
 * is refused until it expires; the browser has dropped it, so only a stolen copy could come
 * back, and only after a restart).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Flash } from "./html.ts";

export const SESSION_COOKIE = "sop_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  /** The cookie's value. */
  id: string;
  /** The API token's name; the actor of every decision is `api:<tokenName>`. */
  tokenName: string;
  csrf: string;
  expiresAt: number;
  /** Shown once on the next page, then cleared (decisions' outcomes, refusals). */
  flash?: Flash;
}

/** What the cookie says, before the signature: `n` the token name, `x` the expiry, `r` a nonce. */
interface Claims {
  n: string;
  x: number;
  r: string;
}

function isClaims(value: unknown): value is Claims {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Partial<Record<keyof Claims, unknown>>;
  return typeof c.n === "string" && typeof c.x === "number" && typeof c.r === "string";
}

/** Length of an HMAC-SHA256 in base64url, the cookie's last characters. */
const MAC_CHARS = 43;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class SessionStore {
  /** Sessions this process has seen, so a flash set on one is there on the next request. */
  private readonly seen = new Map<string, Session>();
  /** Logged-out cookies → their expiry. */
  private readonly ended = new Map<string, number>();
  private readonly key: Buffer;

  constructor(
    private readonly now: () => number,
    /** The token a name stands for now (undefined: no longer configured). */
    private readonly tokenOf: (name: string) => string | undefined,
    /** The session key; default a random one, and sessions end with the process. */
    key: string | Buffer = randomBytes(32),
    private readonly ttlMs = SESSION_TTL_MS,
  ) {
    this.key = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  }

  create(tokenName: string): Session {
    this.sweep();
    const token = this.tokenOf(tokenName);
    if (token === undefined) throw new Error(`no token named ${tokenName} to open a session for`);
    const claims: Claims = { n: tokenName, x: this.now() + this.ttlMs, r: randomBytes(16).toString("base64url") };
    const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
    const session = this.session(`${payload}${this.mac(payload, token)}`, claims);
    this.seen.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const claims = this.verify(id);
    if (!claims || claims.x <= this.now() || this.ended.has(id)) {
      this.seen.delete(id);
      return undefined;
    }
    let session = this.seen.get(id);
    if (!session) {
      session = this.session(id, claims);
      this.seen.set(id, session);
    }
    return session;
  }

  delete(id: string): void {
    const claims = this.verify(id);
    if (claims) this.ended.set(id, claims.x);
    this.seen.delete(id);
  }

  /** The claims of a cookie whose signature holds for the token its name stands for now. */
  private verify(id: string): Claims | undefined {
    if (id.length <= MAC_CHARS || !BASE64URL.test(id)) return undefined;
    const payload = id.slice(0, -MAC_CHARS);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      return undefined;
    }
    if (!isClaims(parsed)) return undefined;
    const claims = parsed;
    const token = this.tokenOf(claims.n);
    if (token === undefined) return undefined;
    const given = Buffer.from(id.slice(-MAC_CHARS), "utf8");
    const expected = Buffer.from(this.mac(payload, token), "utf8");
    return timingSafeEqual(given, expected) ? { n: claims.n, x: claims.x, r: claims.r } : undefined;
  }

  private mac(payload: string, token: string): string {
    const tokenDigest = createHash("sha256").update(token, "utf8").digest("base64url");
    return createHmac("sha256", this.key).update(`session\0${payload}\0${tokenDigest}`).digest("base64url");
  }

  private session(id: string, claims: Claims): Session {
    const csrf = createHmac("sha256", this.key).update(`csrf\0${id}`).digest("base64url");
    return { id, tokenName: claims.n, csrf, expiresAt: claims.x };
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.seen) if (s.expiresAt <= now) this.seen.delete(id);
    for (const [id, expiresAt] of this.ended) if (expiresAt <= now) this.ended.delete(id);
  }
}

/** The value of one cookie from a Cookie header (no decoding: our values are base64url). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, opts: { secure: boolean; maxAgeSecs: number }): string {
  const attrs = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${opts.maxAgeSecs}`];
  if (opts.secure) attrs.push("Secure");
  return attrs.join("; ");
}
