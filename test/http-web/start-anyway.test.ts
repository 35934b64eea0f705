/**
 * Issue 14: during a cooldown the SOP page offers admins "Start anyway", and nobody else; the
 * run it starts is recorded as forced (`cooldown_forced_by`).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { until } from "../helpers/until.ts";
import { steps } from "../helpers/workspace.ts";
import { follow, postForm, signIn, TOKENS, webFixture, type Browser, type WebFixture } from "../helpers/web-app.ts";

let web: WebFixture;

beforeEach(async () => {
  web = await webFixture(
    (ws) => ws.addSop("greet", `description = "Greets"\ncooldown_secs = 600\nexecution_mode = "automatic"`, steps("**Greet**\n```sh\necho hello\n```")),
    { admins: ["api:alice"] },
  );
});
afterEach(async () => {
  await web.close();
});

const page = async (b: Browser) => (await web.app.inject({ method: "GET", url: "/sops/greet", headers: { cookie: b.cookie } })).body;
const START_ANYWAY = '<button type="submit" name="force" value="yes" class="subtle">Start anyway</button>';

async function firstRun(b: Browser): Promise<void> {
  const started = await postForm(web.app, b, "/sops/greet/run", { _csrf: b.csrf });
  const id = String(started.headers["location"]).split("/").pop()!;
  await until("the first run to finish", async () => (await web.runner.record(id)).status === "success");
}

describe("Start anyway on the SOP page", () => {
  it("appears for an admin only while the SOP cools down, and starts a run recorded as forced", async () => {
    const alice = await signIn(web.app, TOKENS.get("alice")!);
    expect(await page(alice)).not.toContain("Start anyway");
    await firstRun(alice);

    const cooling = await page(alice);
    expect(cooling).toContain(START_ANYWAY);
    expect(cooling).toMatch(/greet cools down for \d+ min( \d+ s)? more\. As an admin you may start it anyway; its audit record says you did\./);

    const refused = await follow(web.app, alice, await postForm(web.app, alice, "/sops/greet/run", { _csrf: alice.csrf }));
    expect(refused.body).toContain("&quot;Start anyway&quot; on the web");

    const forced = await postForm(web.app, alice, "/sops/greet/run", { _csrf: alice.csrf, force: "yes" });
    const shown = await follow(web.app, alice, forced);
    const id = String(forced.headers["location"]).split("/").pop()!;
    expect(shown.body).toContain(`Started greet during its cooldown, run ${id}; the audit record says api:alice forced it.`);
    const record = await until("the forced run to finish", async () => {
      const r = await web.runner.record(id);
      return r.status === "success" && r;
    });
    expect(record).toMatchObject({ requested_by: "api:alice", cooldown_forced_by: "api:alice" });
  });

  it("is not offered to someone who is not an admin, and a forged force is refused", async () => {
    const bob = await signIn(web.app, TOKENS.get("bob")!);
    await firstRun(bob);
    const cooling = await page(bob);
    expect(cooling).toContain("left)");
    expect(cooling).not.toContain("Start anyway</button>");

    const forged = await follow(web.app, bob, await postForm(web.app, bob, "/sops/greet/run", { _csrf: bob.csrf, force: "yes" }));
    expect(forged.body).toContain("not allowed: only admins may start greet during its cooldown");
    expect((await web.runner.runs({ sop: "greet" })).length).toBe(1);
  });

  it("does not force a run when there is no cooldown left to force", async () => {
    const alice = await signIn(web.app, TOKENS.get("alice")!);
    const started = await postForm(web.app, alice, "/sops/greet/run", { _csrf: alice.csrf, force: "yes" });
    const id = String(started.headers["location"]).split("/").pop()!;
    expect((await follow(web.app, alice, started)).body).toContain(`Started greet, run ${id}.`);
    expect((await web.runner.record(id)).cooldown_forced_by).toBeNull();
  });
});
