/**
 * The web UI in headless Chromium: sign in through the login link, run deploy-production,
 * approve both gates from the page and watch the steps finish live.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`; CI installs it).
 * Without it this test fails and says so, unless SKIP_BROWSER_TESTS=1 is set: then it is skipped
 * with that reason.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserSkipReason, launchChromium } from "../helpers/chromium.ts";
import { TOKENS, webFixture, type WebFixture } from "../helpers/web-app.ts";

const OUTPUT = new URL("../../test-output/", import.meta.url).pathname;
const skipReason = browserSkipReason();

let web: WebFixture | undefined;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  if (skipReason) return;
  web = await webFixture((ws) => ws.addExample("deploy-production"));
  await web.app.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(web.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  await mkdir(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

/** Script errors, console errors (CSP violations show there) and failed requests not expected. */
function watchForProblems(page: Page, expected: RegExp[] = []): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !expected.some((e) => e.test(msg.text()))) problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

const step = (page: Page, n: number) => page.locator(`#live li.step[data-step="${n}"]`);

/** Set after a page load; still there later means the page changed without reloading. */
const markPage = (page: Page) => page.evaluate(() => { (globalThis as { stayed?: boolean }).stayed = true; });
const pageStayed = (page: Page) => page.evaluate(() => (globalThis as { stayed?: boolean }).stayed === true);

describe("the web UI in a browser", () => {
  it("runs deploy-production from the page, approves both gates, follows the steps live and opens the audit", async (ctx) => {
    ctx.skip(skipReason !== undefined, skipReason);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const problems = watchForProblems(page);

    await page.goto(`${base}/?token=${encodeURIComponent(TOKENS.get("alice")!)}`);
    expect(new URL(page.url()).pathname).toBe("/");
    expect(page.url()).not.toContain("token");
    await expect.poll(() => page.locator(".who").textContent()).toBe("api:alice");
    await page.screenshot({ path: `${OUTPUT}sop-list.png`, fullPage: true });

    const card = page.locator("li.sop", { has: page.locator('a[href="/sops/deploy-production"]') });
    await card.locator("summary", { hasText: "Run…" }).click();
    await card.locator('input[name="var.version"]').fill("1.2.3");
    await card.getByRole("button", { name: "Start deploy-production" }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    const runId = page.url().split("/").pop()!;
    await expect.poll(() => page.locator(".flash-ok").textContent()).toContain(`Started deploy-production, run ${runId}`);

    // Steps 1 and 2 run (step 1 sleeps a second), then the run waits before step 3.
    await step(page, 3).and(page.locator('[data-status="awaiting_approval"]')).waitFor({ timeout: 20_000 });
    await expect.poll(() => step(page, 1).getAttribute("data-status")).toBe("success");
    const panel = page.locator("section.decision");
    await expect.poll(() => panel.locator("h2").textContent()).toBe("Waiting for approval: before step 3 · Deploy to Staging");
    expect(await panel.textContent()).toContain("anyone who may use the bot");
    expect(await step(page, 1).locator("pre").textContent()).toContain("All tests passed");
    expect(await page.locator("table.vars").textContent()).toContain("1.2.3");
    await page.screenshot({ path: `${OUTPUT}approval-page.png`, fullPage: true });

    await panel.locator('input[name="comment"]').fill("staging looks fine");
    await panel.getByRole("button", { name: "Approve" }).click();
    await page.waitForLoadState("domcontentloaded");
    await expect.poll(() => page.locator(".flash-ok").textContent()).toContain("approved step:3");
    await markPage(page);

    // Steps 3 and 4 finish and the run waits before step 5, all on this page without a reload.
    await step(page, 5).and(page.locator('[data-status="awaiting_approval"]')).waitFor({ timeout: 20_000 });
    expect(await pageStayed(page)).toBe(true);
    expect(await step(page, 3).getAttribute("data-status")).toBe("success");
    expect(await step(page, 4).getAttribute("data-status")).toBe("success");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${OUTPUT}approval-page-mobile.png`, fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });

    await page.locator("section.decision").getByRole("button", { name: "Approve" }).click();
    await page.waitForLoadState("domcontentloaded");
    await expect.poll(() => page.locator(".flash-ok").textContent()).toContain("approved step:5");
    await markPage(page);
    await page.locator('#live[data-final="true"]').waitFor({ timeout: 20_000 });
    expect(await pageStayed(page)).toBe(true);
    for (const n of [1, 2, 3, 4, 5]) expect(await step(page, n).getAttribute("data-status")).toBe("success");
    expect(await page.locator("#live .summary .badge").textContent()).toBe("success");
    expect(await step(page, 5).locator("pre").textContent()).toContain("production is on 1.2.3");
    expect(await page.locator("form.cancel").count()).toBe(0);
    expect(await page.locator("section.decision").count()).toBe(0);

    await page.getByRole("link", { name: "Audit record" }).click();
    await page.waitForURL(`${base}/runs/${runId}/audit`);
    const json = JSON.parse((await page.locator("pre.json").textContent()) ?? "{}") as { status?: string; approvals?: { by: string[]; comment: string | null }[] };
    expect(json.status).toBe("success");
    expect(json.approvals?.map((a) => a.by)).toEqual([["api:alice"], ["api:alice"]]);
    expect(json.approvals?.[0]?.comment).toBe("staging looks fine");
    expect(await page.getByRole("link", { name: "Download JSON" }).getAttribute("href")).toBe(`/runs/${runId}/audit.json`);

    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it("sends a signed-out visitor to the login form and back to the page they asked for", async (ctx) => {
    ctx.skip(skipReason !== undefined, skipReason);
    const page = await browser!.newPage();
    // The wrong token's answer is a 401, which Chromium reports on the console.
    const problems = watchForProblems(page, [/status of 401/]);
    await page.goto(`${base}/approvals`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("API token").fill("not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator(".flash-error").textContent()).toBe("That token is not valid.");
    await page.getByLabel("API token").fill(TOKENS.get("bob")!);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/approvals`);
    expect(await page.locator("h1").textContent()).toBe("Pending approvals");
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: "sop_session", httpOnly: true, sameSite: "Strict" })]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
