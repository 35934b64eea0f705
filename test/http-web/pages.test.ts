import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { until } from "../helpers/until.ts";
import { steps } from "../helpers/workspace.ts";
import { postForm, signIn, TOKENS, webFixture, type Browser, type WebFixture } from "../helpers/web-app.ts";

let web: WebFixture;
let b: Browser;

const EVIL = `<script>alert("x")</script>`;

beforeEach(async () => {
  web = await webFixture(async (ws) => {
    await ws.addExample("deploy-production");
    await ws.addExample("hello");
    await ws.addSop("evil", [
      `description = '${EVIL} & <img src=x onerror=alert(1)>'`,
      `execution_mode = "automatic"`,
      `[vars]`, `target = '${EVIL}'`,
    ].join("\n"), steps(
      "**Echo `<b>it</b>`** [if: target]\nSays `<i>` things.\n```sh\nprintf '%s\\n' \"$SOP_VAR_TARGET\" \"</pre><script>bad()</script>\"\n```",
    ));
  });
  b = await signIn(web.app, TOKENS.get("alice")!);
});
afterEach(async () => {
  await web.close();
});

const get = (url: string) => web.app.inject({ method: "GET", url, headers: { cookie: b.cookie } });

describe("web UI pages", () => {
  it("lists SOPs with description, priority, mode, triggers, cooldown left, success rate and a Run form", async () => {
    const res = await get("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    const body = res.body;
    expect(body).toContain("Deploy code to production with approval gate");
    expect(body).toContain(">high</span>");
    expect(body).toContain(">supervised</span>");
    expect(body).toContain("command /^deploy:(?&lt;version&gt;\\S+)$/");
    expect(body).toContain("Cooldown left");
    expect(body).toContain("Success rate");
    expect(body).toContain('action="/sops/deploy-production/run"');
    expect(body).toContain('name="var.version" value="0.0.0-dev"');
    expect(body).toContain('<meta name="viewport"');
  });

  it("shows every SOP value and every output as text, never as markup", async () => {
    const list = (await get("/")).body;
    expect(list).not.toContain(EVIL);
    expect(list).not.toContain("<img");
    expect(list).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;");
    const detail = (await get("/sops/evil")).body;
    expect(detail).not.toContain(EVIL);
    expect(detail).toContain("&lt;b&gt;it&lt;/b&gt;");
    expect(detail).toContain("Says &#96;&lt;i&gt;&#96; things.");
    expect(detail).toContain(`value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"`);

    const started = await postForm(web.app, b, "/sops/evil/run", { _csrf: b.csrf, extra: `note=${EVIL}` });
    const id = String(started.headers["location"]).split("/").pop()!;
    await until("the run to finish", async () => (await web.runner.run(id))?.run.status === "success");
    for (const url of [`/runs/${id}`, `/runs/${id}/live`, `/runs/${id}/audit`, "/runs"]) {
      const page = (await get(url)).body;
      expect(page, url).not.toContain("<script>alert");
      expect(page, url).not.toContain("<script>bad()");
      expect(page, url).not.toContain("</pre><script>");
    }
    const run = (await get(`/runs/${id}`)).body;
    expect(run).toContain("&lt;/pre&gt;&lt;script&gt;bad()&lt;/script&gt;");
    expect(run).toContain("<code>note</code>");
  });

  it("shows a definition's steps, conditions, approvals, the default plan and recent runs", async () => {
    const body = (await get("/sops/deploy-production")).body;
    expect(body).toContain("Build Release");
    expect(body).toContain("if: tests_pass");
    expect(body).toContain("requires approval");
    expect(body).toContain("Plan with the default variables");
    expect(body).toContain("skips unless an earlier step sets tests_pass (tests_pass is unset)");
    expect(body).toContain("waits for approval: requires_approval");
    expect(body).toContain("No runs.");
    expect((await get("/sops/nope")).statusCode).toBe(404);
    expect((await get("/sops/..%2F..%2Fetc%2Fpasswd")).statusCode).toBe(404);
  });

  it("filters run history by SOP and status, and lists pending approvals across SOPs", async () => {
    const deploy = String((await postForm(web.app, b, "/sops/deploy-production/run", { _csrf: b.csrf })).headers["location"]).split("/").pop()!;
    const hello = String((await postForm(web.app, b, "/sops/hello/run", { _csrf: b.csrf })).headers["location"]).split("/").pop()!;
    await until("deploy to wait", async () => (await web.runner.run(deploy))?.run.status === "awaiting_approval");
    await until("hello to end", async () => {
      const s = (await web.runner.run(hello))?.run.status;
      return s !== undefined && s !== "queued" && s !== "running";
    });
    const all = (await get("/runs")).body;
    expect(all).toContain(deploy.slice(0, 8));
    expect(all).toContain(hello.slice(0, 8));
    const waiting = (await get("/runs?status=waiting")).body;
    expect(waiting).toContain(deploy.slice(0, 8));
    expect(waiting).not.toContain(`/runs/${hello}`);
    const bySop = (await get("/runs?sop=hello&status=bogus")).body;
    expect(bySop).toContain(`/runs/${hello}`);
    expect(bySop).not.toContain(`/runs/${deploy}`);
    const approvals = (await get("/approvals")).body;
    expect(approvals).toContain("before step 3 · Deploy to Staging");
    expect(approvals).toContain(`/runs/${deploy}`);
    expect(approvals).toContain('name="back" value="approvals"');
    expect((await get("/")).body).toContain("waiting for a decision");
  });

  it("shows the audit record as JSON and offers it as a download", async () => {
    const id = String((await postForm(web.app, b, "/sops/hello/run", { _csrf: b.csrf })).headers["location"]).split("/").pop()!;
    await until("the run to end", async () => (await web.runner.record(id)).hash);
    const page = await get(`/runs/${id}/audit`);
    expect(page.body).toContain("&quot;run_id&quot;: &quot;");
    expect(page.body).toContain("sealed as #1");
    const file = await get(`/runs/${id}/audit.json`);
    expect(file.headers["content-type"]).toContain("application/json");
    expect(file.headers["content-disposition"]).toBe(`attachment; filename="hello-${id}.json"`);
    expect(JSON.parse(file.body)).toEqual(await web.runner.record(id));
  });
});
