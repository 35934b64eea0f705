/** Approvals in the web UI show what they let run; Deny needs a reason; a critical Approve is confirmed; the title and the audit record. */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../helpers/until.ts";
import { follow, postForm, signIn, TOKENS, webFixture, type WebFixture } from "../helpers/web-app.ts";
import { steps, type Workspace } from "../helpers/workspace.ts";
import { webWithLogs } from "./audit-web-app.ts";

const ALICE = TOKENS.get("alice")!;
const LONG = Array.from({ length: 30 }, (_, i) => `echo host ${i}`);
let web: WebFixture | undefined;

afterEach(async () => {
  await web?.close();
  web = undefined;
});

async function patchSop(ws: Workspace, extra = "", applyCommand = 'echo applying to "$SOP_VAR_HOSTS" with "$SOP_VAR_API_TOKEN"') {
  await ws.addSop("patch", `description = "Patch the fleet"\nversion = "1.0.0"\nexecution_mode = "automatic"\nmax_concurrent = 2\n${extra}`, steps(
    "**Prepare**\n```sh\necho prepared\n```",
    `**Apply Patch** [requires_approval: true]\nApplies the patch to every host.\n\`\`\`sh\n${applyCommand}\n\`\`\`\n\`\`\`sh\n${LONG.join("\n")}\n\`\`\``,
    "**Verify**\n```sh\necho verified\n```",
    "**Reboot** [manual: true]\nReboot each host by hand.",
  ));
}

async function waitingRun(w: WebFixture, status = "awaiting_approval"): Promise<string> {
  const record = await w.runner.execute("patch", { actor: "api:alice", vars: { hosts: "web-1,web-2", api_token: "s3cr3t-abc-123" }, wait: false });
  await until(`the run to be ${status}`, async () => (await w.runner.run(record.run_id))?.run.status === status);
  return record.run_id;
}

const get = (w: WebFixture, cookie: string, url: string) => w.app.inject({ method: "GET", url, headers: { cookie } });

describe("an approval in the web UI", () => {
  it("shows on its card and on the run page the step, its commands, the redacted variables and the version, a long command folded on the card only", async () => {
    web = await webFixture((ws) => patchSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web);
    const card = (await get(web, b.cookie, "/approvals")).body;
    expect(card).toContain("Waiting for approval: before step 2 · Apply Patch");
    expect(card).toContain("<dt>SOP version</dt><dd>patch 1.0.0 (definition ");
    expect(card).toContain("<code>hosts=web-1,web-2</code>");
    expect(card).toContain("<code>api_token=***</code>");
    expect(card).toContain("What runs after approval");
    expect(card).toContain("Applies the patch to every host.");
    expect(card).toContain('<pre class="code">echo applying to &quot;$SOP_VAR_HOSTS&quot; with &quot;$SOP_VAR_API_TOKEN&quot;</pre>');
    expect(card).toContain(`<pre class="code">${LONG.slice(0, 15).join("\n")}</pre>`);
    expect(card).toContain("<summary>… 15 more lines: the whole command</summary>");
    expect(card).toContain("<strong>Verify</strong>");
    expect(card).toContain("Then step 4 · Reboot waits for a person to do it (manual step).");
    expect(card).not.toContain("s3cr3t-abc-123");

    const page = (await get(web, b.cookie, `/runs/${id}`)).body;
    expect(page).toContain(`<pre class="code">${LONG.join("\n")}</pre>`);
    expect(page).toContain("<code>api_token=***</code>");
    expect(page).not.toContain("s3cr3t-abc-123");
  });

  it("refuses a Deny without a reason, in the form and on the server, and the run still waits", async () => {
    web = await webFixture((ws) => patchSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web);
    const page = (await get(web, b.cookie, `/runs/${id}`)).body;
    expect(page).toMatch(/<input name="reason" [^>]*required pattern="\.\*\\S\.\*"\s+data-required-message="Deny needs a reason: say why, it goes into the audit record\."/);
    for (const reason of ["", "   "]) {
      const res = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "deny", checkpoint: "step:2", reason });
      expect(res.headers["location"]).toBe(`/runs/${id}`);
      expect((await follow(web.app, b, res)).body).toContain("Nothing was decided. Deny needs a reason: say why, it goes into the audit record.");
    }
    const stored = await web.runner.run(id);
    expect(stored?.run.status).toBe("awaiting_approval");
    expect(stored?.run.checkpoints[0]).toMatchObject({ status: "pending", refused: [] });
  });

  it("refuses a Failed without a reason on a manual step, from the approvals page too", async () => {
    web = await webFixture((ws) => patchSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web);
    await web.runner.approve("patch", { actor: "api:alice", runId: id, wait: true });
    await until("the manual step", async () => (await web!.runner.run(id))?.run.status === "awaiting_manual");
    const res = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "deny", checkpoint: "manual:4", back: "approvals" });
    expect(res.headers["location"]).toBe("/approvals");
    expect((await follow(web.app, b, res)).body).toContain("Nothing was decided. Failed needs a reason: say what went wrong, it goes into the audit record.");
    expect((await web.runner.run(id))?.run.status).toBe("awaiting_manual");
  });

  it("asks 'Are you sure?' before an Approve of a critical SOP counts, keeping the comment, and Done on its manual step is not asked", async () => {
    web = await webFixture((ws) => patchSop(ws, `priority = "critical"\n`));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web);
    const card = (await get(web, b.cookie, "/approvals")).body;
    expect(card).toContain("A critical SOP: you are asked to confirm first.");
    const asked = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "step:2", comment: "window is open", back: "approvals" });
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain("<h1>Are you sure?</h1>");
    expect(asked.body).toContain(`patch is critical. Approve step:2 of run ${id.slice(0, 8)}?`);
    expect(asked.body).toContain('<input type="hidden" name="confirmed" value="yes">');
    expect(asked.body).toContain('<input type="hidden" name="comment" value="window is open">');
    expect(asked.body).toContain('<a class="button" href="/approvals">Cancel</a>');
    expect(asked.body).toContain("What runs after approval");
    expect((await web.runner.run(id))?.run.checkpoints[0]?.status).toBe("pending");

    const confirmed = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "step:2", comment: "window is open", back: "approvals", confirmed: "yes" });
    expect(confirmed.headers["location"]).toBe("/approvals");
    expect((await follow(web.app, b, confirmed)).body).toContain(`approved step:2 of run ${id}`);
    await until("the manual step", async () => (await web!.runner.run(id))?.run.status === "awaiting_manual");
    expect((await web.runner.record(id)).approvals[0]).toMatchObject({ decision: "approved", comment: "window is open" });

    const done = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "manual:4" });
    expect(done.statusCode).toBe(303);
    await until("the run to succeed", async () => (await web!.runner.run(id))?.run.status === "success");
  });

  it("gives the run page a title that says the status, and the live fragment the title to follow it", async () => {
    web = await webFixture((ws) => patchSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web);
    expect((await get(web, b.cookie, `/runs/${id}`)).body).toContain("<title>patch awaiting approval · sop-runner</title>");
    expect((await get(web, b.cookie, `/runs/${id}/live`)).body).toContain('data-page-title="patch awaiting approval · sop-runner"');
    await web.runner.approve("patch", { actor: "api:alice", runId: id, wait: true });
    await until("the manual step", async () => (await web!.runner.run(id))?.run.status === "awaiting_manual");
    expect((await get(web, b.cookie, `/runs/${id}/live`)).body).toContain('data-page-title="patch awaiting manual · sop-runner"');
  });

  it("says how the SOP changed since the gate was last approved: folded on the card with a link, whole on the run page", async () => {
    web = await webFixture((ws) => patchSop(ws));
    const b = await signIn(web.app, ALICE);
    const first = await waitingRun(web);
    await web.runner.approve("patch", { actor: "api:alice", runId: first, wait: true });
    await web.runner.cancel(first, { actor: "api:alice" });
    await patchSop(web.ws, "", Array.from({ length: 25 }, (_, i) => `apply --host web-${i}`).join("\n"));
    await web.runner.reload();
    const second = await waitingRun(web);
    const card = (await get(web, b.cookie, "/approvals")).body;
    expect(card).toContain(`⚠️ The SOP changed since this gate was last approved: in run ${first.slice(0, 8)} at `);
    expect(card).toContain('<span class="d-same">  step 2. Apply Patch [requires_approval: true]\n</span>');
    expect(card).toContain('<span class="d-remove">-     echo applying to &quot;$SOP_VAR_HOSTS&quot; with &quot;$SOP_VAR_API_TOKEN&quot;\n</span>');
    expect(card).toContain('<span class="d-add">+     apply --host web-0\n</span>');
    expect(card).toContain(`<a href="/runs/${second}">… 6 more changed lines, see the run page</a>`);
    const page = (await get(web, b.cookie, `/runs/${second}`)).body;
    expect(page).toContain('<span class="d-add">+     apply --host web-24\n</span>');
    expect(page).not.toContain("more changed lines");
  });

  it("renders the audit record: steps, approvals with who and when, refused attempts, metrics, the seal and that the chain verifies; the raw JSON a click away", async () => {
    web = await webWithLogs((ws) => ws.addSop("ship", `description = "Ships"\nexecution_mode = "automatic"\n[approval]\napprovers = ["api:alice"]\n`, steps(
      "**Build**\n```sh\necho built\n```",
      "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
    )));
    const b = await signIn(web.app, ALICE);
    const run = await web.runner.execute("ship", { actor: "api:alice" });
    await web.runner.approve("ship", { actor: "api:bob", runId: run.run_id }).catch(() => undefined);
    await web.runner.approve("ship", { actor: "api:alice", runId: run.run_id, comment: "go", wait: true });
    await until("the run to be sealed", async () => (await web!.runner.record(run.run_id)).hash);
    const page = (await get(web, b.cookie, `/runs/${run.run_id}/audit`)).body;
    expect(page).toContain("<title>Audit record: ship · sop-runner</title>");
    expect(page).toContain("✔ The chain of ship verifies: 1 sealed record, none edited, removed or out of order.");
    expect(page).toMatch(/<tr data-step="1"><td>1<\/td><td>Build<\/td><td><span class="badge s-success">success<\/span><\/td>/);
    expect(page).toContain("<summary>Output of step 2</summary><pre class=\"output\">shipped\n</pre>");
    expect(page).toMatch(/<td>before step 2 · Ship <small class="muted"><code>step:2<\/code><\/small><\/td><td><span class="badge s-approved">approved<\/span><\/td>\s*<td>api:alice<\/td><td><time [^>]+>[^<]+ UTC<\/time><\/td><td><time [^>]+>[^<]+ UTC<\/time><\/td><td>go<\/td>/);
    expect(page).toMatch(/<li><time [^>]+>[^<]+ UTC<\/time> · <code>step:2<\/code> · api:bob tried to approve: not allowed: api:bob is not an approver of step:2/);
    expect(page).toContain("<dt>Steps</dt><dd>2 completed · 0 skipped · 0 failed</dd>");
    expect(page).toContain("<dt>Waited for people</dt><dd>1 time, ");
    expect(page).toContain(`<dt>Hash</dt><dd><code>${(await web.runner.record(run.run_id)).hash}</code></dd>`);
    expect(page).toContain('<details class="raw"><summary>Raw JSON</summary><pre class="json">{');
    expect(page).toContain(`<a class="button" href="/runs/${run.run_id}/audit.json" download>Download JSON</a>`);

    // Someone edits the file: the page says so, in `sop audit verify`'s words.
    const dir = join(web.ws.logsDir, "sop", "ship");
    const [file] = await readdir(dir);
    const path = join(dir, file!);
    await writeFile(path, (await readFile(path, "utf8")).replace('"comment": "go"', '"comment": "gone"'));
    const tampered = (await get(web, b.cookie, `/runs/${run.run_id}/audit`)).body;
    expect(tampered).toContain("✘ The chain of ship does not verify");
    expect(tampered).toContain(`sop/ship/${file} (seq 1) was edited: its content no longer matches its hash`);
  });

  it("says the chain was not checked when the web UI was not given LOGS_DIR", async () => {
    web = await webFixture((ws) => ws.addSop("hi", `description = "Hi"\nexecution_mode = "automatic"\n`, steps("**Hi**\n```sh\necho hi\n```")));
    const b = await signIn(web.app, ALICE);
    const run = await web.runner.execute("hi", { actor: "api:alice" });
    const page = (await get(web, b.cookie, `/runs/${run.run_id}/audit`)).body;
    expect(page).toContain("The chain of hi was not checked: this server&#39;s web UI was not given LOGS_DIR.");
  });
});
