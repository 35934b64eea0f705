/**
 * The UI's one script and one stylesheet, read once at start and served from memory. Their URLs
 * carry a content hash, so they can be cached for a year and still change with a release.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export interface StaticAsset {
  body: Buffer;
  type: string;
  /** `/static/app.js?v=<hash>`: what pages link to. */
  url: string;
}

const TYPES: Readonly<Record<string, string>> = {
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

export async function loadStaticAssets(): Promise<Map<string, StaticAsset>> {
  const assets = new Map<string, StaticAsset>();
  for (const [file, type] of Object.entries(TYPES)) {
    const body = await readFile(new URL(`./static/${file}`, import.meta.url));
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
    assets.set(file, { body, type, url: `/static/${file}?v=${hash}` });
  }
  return assets;
}

export const LONG_CACHE = "public, max-age=31536000, immutable";
