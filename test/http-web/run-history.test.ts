import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRun } from "../../src/core/run/new-run.ts";
import { storeOf } from "../helpers/runner-internals.ts";
import { signIn, TOKENS, webFixture, type Browser, type WebFixture } from "../helpers/web-app.ts";

let web: WebFixture;
let b: Browser;

beforeEach(async () => {
  web = await webFixture(async (ws) => {
    await ws.addExample("hello");
  });
  b = await signIn(web.app, TOKENS.get("alice")!);
});
afterEach(async () => {
  await web.close();
});

const get = (url: string) => web.app.inject({ method: "GET", url, headers: { cookie: b.cookie } });
const runIds = (html: string) => [...html.matchAll(/href="\/runs\/([^"/]+)"/g)].map((m) => m[1]!);
const olderLink = (html: string) => /<a rel="next" href="([^"]+)">Older →<\/a>/.exec(html)?.[1]?.replace(/&amp;/g, "&");

/** Queued runs stored as they were accepted (no worker moves them during the test). */
async function admit(count: number): Promise<string[]> {
  const loaded = web.runner.sop("hello")!;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const run = newRun(loaded.definition, { id: `run-${String(i).padStart(4, "0")}`, definitionHash: loaded.hash, trigger: { type: "manual" }, requestedBy: "local:test", vars: {}, now: 1_000_000 + i });
    await storeOf(web.runner).admit({ run, definition: { ...loaded.definition, maxConcurrent: 1_000 }, dir: loaded.dir }, { cooldownSecs: 0, force: true, now: run.queuedAt });
    ids.push(run.id);
  }
  return ids;
}

describe("the Runs page", () => {
  it("shows the newest 100 runs with an Older → link to the rest, each run once", async () => {
    const ids = await admit(105);
    const first = await get("/runs?sop=hello");
    expect(first.statusCode).toBe(200);
    const page1 = runIds(first.body);
    expect(page1).toHaveLength(100);
    expect(page1[0]).toBe("run-0104");
    const older = olderLink(first.body);
    expect(older).toMatch(/^\/runs\?sop=hello&cursor=/);
    const second = await get(older!);
    expect(second.body).toContain("← Newest");
    const page2 = runIds(second.body);
    expect(page2).toEqual(["run-0004", "run-0003", "run-0002", "run-0001", "run-0000"]);
    expect(olderLink(second.body)).toBeUndefined();
    expect([...page1, ...page2].sort()).toEqual(ids);
  });

  it("answers a cursor it did not give with a page that says so", async () => {
    const res = await get("/runs?cursor=bm9wZQ");
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain("not one this server gave");
  });

  it("shows an SOP's latest runs on its page", async () => {
    await admit(20);
    const ids = runIds((await get("/sops/hello")).body);
    expect(ids.slice(0, 15)).toEqual(Array.from({ length: 15 }, (_, i) => `run-${String(19 - i).padStart(4, "0")}`));
  });
});
