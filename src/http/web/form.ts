/**
 * Form bodies. The UI's own parser turns urlencoded bodies into a string map; when the app
 * already has a parser for that type (say @fastify/formbody), its values may be arrays, so
 * fields are read through `field`, which takes the first value of anything.
 */
import type { FastifyInstance } from "fastify";

export const FORM_TYPE = "application/x-www-form-urlencoded";
/** Forms hold a few short fields; a comment is at most a few KiB. */
const FORM_BODY_LIMIT = 64 * 1024;

export function addFormParser(scope: FastifyInstance): void {
  if (scope.hasContentTypeParser(FORM_TYPE)) return;
  scope.addContentTypeParser(FORM_TYPE, { parseAs: "string", bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of new URLSearchParams(body as string)) if (!(k in fields)) fields[k] = v;
    done(null, fields);
  });
}

export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null || !Object.hasOwn(body, name)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" ? first : undefined;
}

export function fieldNames(body: unknown): string[] {
  return typeof body === "object" && body !== null ? Object.keys(body) : [];
}

/** Only local paths, so `next` can never send someone to another site after login. */
export function safeNext(next: string | undefined): string | undefined {
  return next !== undefined && /^\/(?![/\\])[^\s]*$/.test(next) ? next : undefined;
}
