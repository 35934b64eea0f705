/**
 * Approvals that show what they let run, in headless Chromium: the approvals card with the
 * step's commands, the variables and the change since the gate was last approved; Deny refused
 * without a reason; Approve from the card; the rendered audit record; a critical SOP's "Are you
 * sure?"; and the run page's title following the run live. Screenshots go to test-output/.
 *
 * Needs Debian's chromium at /usr/bin/chromium (see web-ui.test.ts).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserSkipReason, launchChromium } from "../helpers/chromium.ts";
import { until } from "../helpers/until.ts";
import { TOKENS, type WebFixture } from "../helpers/web-app.ts";
import { steps } from "../helpers/workspace.ts";
import { webWithLogs } from "../http-web/audit-web-app.ts";

const OUTPUT = new URL("../../test-output/", import.meta.url).pathname;
const skipReason = browserSkipReason();
const ROLLOUT = Array.from({ length: 24 }, (_, i) => `echo "patching web-${i}"`);

let web: WebFixture | undefined;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  if (skipReason) return;
  web = await webWithLogs(async (ws) => {
    await ws.addSop("patch-fleet", `description = "Patch the web fleet"\nversion = "1.4.0"\nexecution_mode = "automatic"\n[vars]\nhosts = "web-1,web-2"\n`, steps(
      "**Prepare**\n```sh\necho prepared\n```",
      `**Apply Patch** [requires_approval: true]\nApplies the security patch to every host, one at a time.\n\`\`\`sh\necho "patching $SOP_VAR_HOSTS"\ntest -n "$SOP_VAR_API_TOKEN"\n\`\`\`\n\`\`\`sh\n${ROLLOUT.join("\n")}\n\`\`\``,
      "**Verify** [if: previous_step == \"success\"]\nChecks every host answers.\n```sh\necho verified\n```",
    ));
    await ws.addSop("vital", `description = "Critical"\npriority = "critical"\nexecution_mode = "automatic"\nmax_concurrent = 2\n`, steps(
      "**Flip** [requires_approval: true]\n```sh\necho flipped\n```",
    ));
  });
  await web.app.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(web.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  await mkdir(OUTPUT, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  return problems;
}

async function signedIn(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  const problems = watchForProblems(page);
  await page.goto(`${base}/?token=${encodeURIComponent(TOKENS.get("alice")!)}`);
  return { page, problems };
}

const status = async (id: string) => (await web!.runner.run(id))?.run.status;
const markPage = (page: Page) => page.evaluate(() => { (globalThis as { stayed?: boolean }).stayed = true; });
const pageStayed = (page: Page) => page.evaluate(() => (globalThis as { stayed?: boolean }).stayed === true);

describe("approvals in a browser", () => {
  it("approves from a card that shows the step's commands, the variables and the change, after Deny is refused without a reason; then reads the audit record", async (ctx) => {
    ctx.skip(skipReason !== undefined, skipReason);
    const w = web!;
    // The gate was last approved on the SOP as it was; then the rollout command changed.
    const earlier = await w.runner.execute("patch-fleet", { actor: "api:bob", vars: { api_token: "tok-0123456789" } });
    await w.runner.approve("patch-fleet", { actor: "api:bob", runId: earlier.run_id, wait: true });
    const md = join(w.ws.sopsDir, "patch-fleet", "SOP.md");
    await writeFile(md, (await readFile(md, "utf8")).replace('echo "patching web-3"', 'echo "patching web-3 --reboot"'));
    await w.runner.reload();
    const run = await w.runner.execute("patch-fleet", { actor: "api:alice", vars: { hosts: "web-1,web-2,web-3", api_token: "tok-0123456789" } });
    expect(run.status).toBe("awaiting_approval");

    const { page, problems } = await signedIn();
    await page.getByRole("link", { name: "Approvals" }).click();
    await page.waitForURL(`${base}/approvals`);
    const card = page.locator(`article.pending[data-run="${run.run_id}"]`);
    expect(await card.locator("section.decision h2").textContent()).toBe("Waiting for approval: before step 2 · Apply Patch");
    expect(await card.locator("li.next[data-step=\"2\"] pre.code").first().textContent()).toBe('echo "patching $SOP_VAR_HOSTS"\ntest -n "$SOP_VAR_API_TOKEN"');
    expect(await card.locator("li.next[data-step=\"2\"] .desc").textContent()).toBe("Applies the security patch to every host, one at a time.");
    expect(await card.locator("li.next[data-step=\"2\"] details.more summary").textContent()).toBe("… 9 more lines: the whole command");
    expect(await card.locator("li.next[data-step=\"3\"] strong").textContent()).toBe("Verify");
    expect(await card.locator("dd.vars").textContent()).toBe("hosts=web-1,web-2,web-3 api_token=*** ");
    expect(await card.locator("dl.facts dd").filter({ hasText: "patch-fleet 1.4.0" }).textContent()).toMatch(/^patch-fleet 1\.4\.0 \(definition [0-9a-f]{8}\)$/);
    expect(await card.locator(".change strong").textContent()).toContain(`The SOP changed since this gate was last approved: in run ${earlier.run_id.slice(0, 8)}`);
    expect(await card.locator(".change .d-remove").textContent()).toBe('-     echo "patching web-3"\n');
    expect(await card.locator(".change .d-add").textContent()).toBe('+     echo "patching web-3 --reboot"\n');
    expect(await card.locator("p.then").textContent()).toBe("Then the run ends.");
    expect(await page.content()).not.toContain("tok-0123456789");
    await page.screenshot({ path: `${OUTPUT}approvals-page.png`, fullPage: true });

    // Deny with no reason: the browser keeps the form, in the server's words, and nothing is decided.
    await markPage(page);
    const reason = card.locator('form.deny input[name="reason"]');
    await card.getByRole("button", { name: "Deny" }).click();
    expect(await reason.evaluate((el) => (el as unknown as { validationMessage: string }).validationMessage)).toBe("Deny needs a reason: say why, it goes into the audit record.");
    await reason.fill("   ");
    await card.getByRole("button", { name: "Deny" }).click();
    expect(await reason.evaluate((el) => (el as unknown as { validationMessage: string }).validationMessage)).toBe("Deny needs a reason: say why, it goes into the audit record.");
    expect(await pageStayed(page)).toBe(true);
    expect(page.url()).toBe(`${base}/approvals`);
    expect(await status(run.run_id)).toBe("awaiting_approval");
    await reason.fill("");

    await card.locator('form.approve input[name="comment"]').fill("patch window is open");
    await card.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(`${base}/approvals`);
    await expect.poll(() => page.locator(".flash-ok").textContent()).toContain(`approved step:2 of run ${run.run_id}`);
    await until("the run to succeed", async () => (await status(run.run_id)) === "success" && (await w.runner.record(run.run_id)).hash);
    // The page checks the chain of files on disk: the run's own is written just after it seals.
    await until("its audit file", async () => (await w.ws.auditFiles("patch-fleet")).some((r) => r.run_id === run.run_id && r.hash));

    await page.goto(`${base}/runs/${run.run_id}/audit`);
    expect(await page.title()).toBe("Audit record: patch-fleet · sop-runner");
    expect(await page.locator(".chain-ok").textContent()).toBe("✔ The chain of patch-fleet verifies: 2 sealed records, none edited, removed or out of order.");
    const approval = page.locator("table.audit-approvals tbody tr").first();
    expect(await approval.locator("td").nth(2).textContent()).toBe("api:alice");
    expect(await approval.locator("td").nth(4).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await approval.locator("td").nth(5).textContent()).toBe("patch window is open");
    expect(await page.locator("table.audit-steps tbody tr[data-step] td:nth-child(2)").allTextContents()).toEqual(["Prepare", "Apply Patch", "Verify"]);
    expect(await page.locator("pre.json").isVisible()).toBe(false);
    await page.screenshot({ path: `${OUTPUT}audit-record.png`, fullPage: true });
    await page.getByText("Raw JSON").click();
    expect(await page.locator("pre.json").isVisible()).toBe(true);
    expect(JSON.parse((await page.locator("pre.json").textContent()) ?? "{}")).toMatchObject({ run_id: run.run_id, status: "success", vars: { api_token: "***" } });

    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it("keeps the run page's title on the run's status as it changes, and asks 'Are you sure?' before approving a critical SOP", async (ctx) => {
    ctx.skip(skipReason !== undefined, skipReason);
    const w = web!;
    const first = await w.runner.execute("vital", { actor: "api:bob" });
    const { page, problems } = await signedIn();
    await page.goto(`${base}/runs/${first.run_id}`);
    expect(await page.title()).toBe("vital awaiting approval · sop-runner");
    await markPage(page);
    await w.runner.approve("vital", { actor: "api:bob", runId: first.run_id, wait: true });
    await expect.poll(() => page.title(), { timeout: 15_000 }).toBe("vital success · sop-runner");
    expect(await pageStayed(page)).toBe(true);

    const second = await w.runner.execute("vital", { actor: "api:bob" });
    await page.goto(`${base}/runs/${second.run_id}`);
    await page.locator("section.decision").getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(`${base}/runs/${second.run_id}/decide`);
    expect(await page.locator("h1").textContent()).toBe("Are you sure?");
    expect(await page.locator("p.lead").textContent()).toBe(`vital is critical. Approve step:1 of run ${second.run_id.slice(0, 8)}?`);
    expect(await status(second.run_id)).toBe("awaiting_approval");
    await page.screenshot({ path: `${OUTPUT}approve-critical-confirm.png`, fullPage: true });
    await page.locator("form.confirm").getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(`${base}/runs/${second.run_id}`);
    await expect.poll(() => page.locator(".flash-ok").textContent()).toContain(`approved step:1 of run ${second.run_id}`);
    await expect.poll(() => page.title(), { timeout: 15_000 }).toBe("vital success · sop-runner");
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
