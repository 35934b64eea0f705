/**
 * Browser sessions: a random id in an HttpOnly, SameSite=Strict cookie, mapped server-side to
 * the API token name it was exchanged for. Kept in memory: a restart logs people out, which
 * costs one click on the login link and never leaves a session readable on disk.
 */
import { randomBytes } from "node:crypto";
import type { Flash } from "./html.ts";
import { newSecret } from "./csrf.ts";

export const SESSION_COOKIE = "sop_session";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  id: string;
  /** The API token's name; the actor of every decision is `api:<tokenName>`. */
  tokenName: string;
  csrf: string;
  expiresAt: number;
  /** Shown once on the next page, then cleared (decisions' outcomes, refusals). */
  flash?: Flash;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly now: () => number,
    /** Token names still configured; a session outlives no token. */
    private readonly tokenExists: (name: string) => boolean,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  create(tokenName: string): Session {
    this.sweep();
    const session: Session = {
      id: randomBytes(32).toString("base64url"),
      tokenName,
      csrf: newSecret(),
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.now() || !this.tokenExists(session.tokenName)) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
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
