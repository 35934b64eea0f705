import { afterEach, describe, expect, it } from "vitest";
import { until } from "../helpers/until.ts";
import { steps, type Workspace } from "../helpers/workspace.ts";
import { csrfOf, follow, postForm, signIn, TOKENS, webFixture, type Browser, type WebFixture } from "../helpers/web-app.ts";

const ALICE = TOKENS.get("alice")!;
let web: WebFixture | undefined;

afterEach(async () => {
  await web?.close();
  web = undefined;
});

/** One approval before a step that prints, then a step after it. */
async function gatedSop(ws: Workspace, approval = "") {
  await ws.addSop("gated", `description = "Gated"\nexecution_mode = "automatic"\n${approval}`, steps(
    "**Prepare**\n```sh\necho prepared\n```",
    "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
  ));
}

async function waitingRun(w: WebFixture, b: Browser): Promise<string> {
  const started = await postForm(w.app, b, "/sops/gated/run", { _csrf: b.csrf });
  expect(started.statusCode).toBe(303);
  const id = /^\/runs\/([^/]+)$/.exec(String(started.headers["location"]))?.[1];
  if (!id) throw new Error(`no run page in ${String(started.headers["location"])}`);
  await until("the run to wait", async () => (await w.runner.run(id))?.run.status === "awaiting_approval");
  return id;
}

describe("deciding from the web UI", () => {
  it("refuses a cross-site POST that has the cookie but no CSRF token, and the run still waits", async () => {
    web = await webFixture((ws) => gatedSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web, b);
    const attempts = [
      await postForm(web.app, b, `/runs/${id}/decide`, { decision: "approve", checkpoint: "step:2" }),
      await postForm(web.app, b, `/runs/${id}/decide`, { decision: "approve", checkpoint: "step:2", _csrf: `${b.csrf.slice(1)}x` }),
      await postForm(web.app, b, `/runs/${id}/decide`, { decision: "approve", _csrf: b.csrf }, { "sec-fetch-site": "cross-site" }),
      await postForm(web.app, b, `/runs/${id}/cancel`, {}),
      await postForm(web.app, b, "/sops/gated/run", {}),
    ];
    for (const res of attempts) {
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain("nothing changed");
    }
    // A JSON body carries no form field at all: refused the same way.
    const json = await web.app.inject({ method: "POST", url: `/runs/${id}/decide`, headers: { cookie: b.cookie, "content-type": "application/json" }, payload: { decision: "approve" } });
    expect([403, 415]).toContain(json.statusCode);
    const stored = await web.runner.run(id);
    expect(stored?.run.status).toBe("awaiting_approval");
    expect(stored?.run.checkpoints[0]?.by).toEqual([]);
    expect((await web.runner.runs({ sop: "gated" })).length).toBe(1);
  });

  it("resumes the run when approved from the form, and records the comment and the actor api:<token name>", async () => {
    web = await webFixture((ws) => gatedSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web, b);
    const page = await web.app.inject({ method: "GET", url: `/runs/${id}`, headers: { cookie: b.cookie } });
    expect(page.body).toContain("Waiting for approval");
    expect(page.body).toContain(">Approve</button>");
    expect(page.body).toContain(">Deny</button>");
    expect(page.body).toContain("anyone who may use the bot");
    expect(page.body).toContain("0 of 1");
    expect(page.body).toContain("none (waits until decided)");
    const res = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: csrfOf(page.body), decision: "approve", checkpoint: "step:2", comment: "ship it" });
    expect(res.headers["location"]).toBe(`/runs/${id}`);
    const after = await follow(web.app, b, res);
    expect(after.body).toContain(`approved step:2 of run ${id}`);
    const record = await until("the run to finish", async () => {
      const r = await web!.runner.record(id);
      return r.status === "success" && r;
    });
    expect(record.approvals[0]).toMatchObject({ gate: "step:2", decision: "approved", by: ["api:alice"], comment: "ship it" });
    expect(record.steps.map((s) => s.output.trim())).toEqual(["prepared", "shipped"]);
    // The flash shows once.
    const again = await web.app.inject({ method: "GET", url: `/runs/${id}`, headers: { cookie: b.cookie } });
    expect(again.body).not.toContain(`approved step:2 of run ${id}`);
    expect(again.body).toContain("shipped");
  });

  it("shows the engine's refusal (not allowed: …) on the page and the audit records it", async () => {
    web = await webFixture((ws) => gatedSop(ws, `[approval]\napprovers = ["api:carol"]\n`));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web, b);
    const res = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "step:2" });
    const page = await follow(web.app, b, res);
    expect(page.body).toContain("not allowed: api:alice is not an approver of step:2 (approvers: api:carol)");
    expect(page.body).toContain('class="flash flash-error"');
    expect(page.body).toContain("api:carol");
    const record = await web.runner.record(id);
    expect(record.status).toBe("awaiting_approval");
    expect(record.approvals[0]?.refused).toMatchObject([{ by: "api:alice", decision: "approve" }]);
    const audit = await web.app.inject({ method: "GET", url: `/runs/${id}/audit`, headers: { cookie: b.cookie } });
    expect(audit.body).toContain("not allowed: api:alice is not an approver");
  });

  it("denies with a reason and says so when the same gate is decided again from a stale page", async () => {
    web = await webFixture((ws) => gatedSop(ws));
    const b = await signIn(web.app, ALICE);
    const id = await waitingRun(web, b);
    await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "deny", checkpoint: "step:2", reason: "not today" });
    const record = await until("the run to end", async () => {
      const r = await web!.runner.record(id);
      return r.status === "denied" && r;
    });
    expect(record.end_reason).toBe("denied by api:alice: not today");
    const stale = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "step:2" });
    const page = await follow(web.app, b, stale);
    expect(page.body).toContain("already ended (denied)");
    expect(page.body).not.toContain(">Approve</button>");
  });

  it("labels manual steps Done and Failed, and Done completes the step", async () => {
    web = await webFixture((ws) => ws.addSop("checklist", `description = "Manual"\nexecution_mode = "automatic"\n`, steps(
      "**Check the dashboard** [manual: true]\nLook at it.",
      "**Report**\n```sh\necho reported\n```",
    )));
    const b = await signIn(web.app, ALICE);
    const started = await follow(web.app, b, await postForm(web.app, b, "/sops/checklist/run", { _csrf: b.csrf }));
    const id = /\/runs\/([^/"]+)\/decide/.exec(started.body)?.[1] ?? /run <code>([^<]+)<\/code>/.exec(started.body)?.[1];
    expect(id).toBeTruthy();
    await until("the manual step", async () => (await web!.runner.run(id!))?.run.status === "awaiting_manual");
    const page = await web.app.inject({ method: "GET", url: `/runs/${id}`, headers: { cookie: b.cookie } });
    expect(page.body).toContain("Waiting for a person to finish: step 1 · Check the dashboard");
    expect(page.body).toContain(">Done</button>");
    expect(page.body).toContain(">Failed</button>");
    const pending = await web.app.inject({ method: "GET", url: "/approvals", headers: { cookie: b.cookie } });
    expect(pending.body).toContain(">Done</button>");
    const done = await postForm(web.app, b, `/runs/${id}/decide`, { _csrf: b.csrf, decision: "approve", checkpoint: "manual:1", back: "approvals" });
    expect(done.headers["location"]).toBe("/approvals");
    await until("the run to finish", async () => (await web!.runner.run(id!))?.run.status === "success");
  });

  it("starts a run with the form's variables, and shows the cooldown refusal with the seconds left", async () => {
    web = await webFixture((ws) => ws.addSop("greet", `description = "Greets"\ncooldown_secs = 600\nexecution_mode = "automatic"\n[vars]\nname = "world"\ncount = 3\n`, steps(
      "**Greet**\n```sh\necho \"hello $SOP_VAR_NAME $SOP_VAR_EXTRA\"\n```",
    )));
    const b = await signIn(web.app, ALICE);
    const res = await postForm(web.app, b, "/sops/greet/run", { _csrf: b.csrf, "var.name": "team", "var.count": "3", extra: "extra = yes\n\n" });
    const id = String(res.headers["location"]).split("/").pop()!;
    const record = await until("the run to finish", async () => {
      const r = await web!.runner.record(id);
      return r.status === "success" && r;
    });
    expect(record.vars).toEqual({ name: "team", count: 3, extra: "yes" });
    expect(record.requested_by).toBe("api:alice");
    expect(record.steps[0]?.output.trim()).toBe("hello team yes");
    const second = await follow(web.app, b, await postForm(web.app, b, "/sops/greet/run", { _csrf: b.csrf }));
    expect(second.body).toMatch(/greet is cooling down: \d+ s left/);
    const bad = await follow(web.app, b, await postForm(web.app, b, "/sops/greet/run", { _csrf: b.csrf, extra: "no equals sign" }));
    expect(bad.body).toContain("line 1 of &quot;More variables&quot; is not name=value");
  });
});
