/**
 * Headers on every web UI response. An approval page is what an attacker would most like a
 * signed-in person to click on, so: no framing, no inline script or style, forms post only here.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** Pages carry CSRF tokens and run data: never cached. */
export const NO_STORE = { "cache-control": "no-store" } as const;
