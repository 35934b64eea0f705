/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * (Playwright's own browser downloads are not available here, and CI installs the package).
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];

/**
 * Why the browser tests are skipped, or undefined when they run. A missing Chromium fails the
 * tests (launchChromium says how to install it) unless SKIP_BROWSER_TESTS=1 asks to skip them.
 */
export function browserSkipReason(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if (existsSync(CHROMIUM_PATH) || env["SKIP_BROWSER_TESTS"] !== "1") return undefined;
  return `SKIP_BROWSER_TESTS=1 and ${CHROMIUM_PATH} is missing (apt-get install chromium to run the browser tests)`;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run \`apt-get install -y chromium\` (Debian) for the browser tests, or set SKIP_BROWSER_TESTS=1 to skip them`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}
