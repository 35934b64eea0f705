import { request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../helpers/until.ts";
import { steps } from "../helpers/workspace.ts";
import { postForm, signIn, TOKENS, webFixture, type Browser, type WebFixture } from "../helpers/web-app.ts";

let web: WebFixture | undefined;
afterEach(async () => {
  await web?.close();
  web = undefined;
});

interface Stream {
  res: IncomingMessage;
  events: Record<string, unknown>[];
  ended: Promise<void>;
}

/** Opens the run's event stream over real HTTP and collects its `data:` messages. */
function openStream(port: number, b: Browser, runId: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: `/runs/${runId}/events`, headers: { cookie: b.cookie, accept: "text/event-stream" } }, (res) => {
      const events: Record<string, unknown>[] = [];
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of message.split("\n")) if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
        }
      });
      const ended = new Promise<void>((done) => res.on("end", done));
      resolve({ res, events, ended });
    });
    req.on("error", reject);
    req.end();
  });
}

async function setUp(): Promise<{ w: WebFixture; b: Browser; port: number; start: () => Promise<string> }> {
  const w = await webFixture((ws) => ws.addSop("gated", `description = "Gated"\nexecution_mode = "automatic"\nmax_concurrent = 5\n`, steps(
    "**Ship** [requires_approval: true]\n```sh\necho shipped\n```",
    "**Tell**\n```sh\necho told\n```",
  )));
  await w.app.listen({ host: "127.0.0.1", port: 0 });
  const b = await signIn(w.app, TOKENS.get("alice")!);
  const port = (w.app.server.address() as AddressInfo).port;
  // The store says "waiting" a moment before the bus has announced it: wait for the announcement
  // too, so a stream opened next hears nothing from before its snapshot.
  const asked = new Set<string>();
  w.runner.events.subscribe((e) => { if (e.type === "approval_requested") asked.add(e.runId); });
  const start = async () => {
    const id = String((await postForm(w.app, b, "/sops/gated/run", { _csrf: b.csrf })).headers["location"]).split("/").pop()!;
    await until("the run to wait", async () => (await w.runner.run(id))?.run.status === "awaiting_approval" && asked.has(id));
    return id;
  };
  return { w, b, port, start };
}

describe("the run event stream", () => {
  it("streams a snapshot, then this run's events as JSON, and ends when the run ends", async () => {
    const { w, b, port, start } = await setUp();
    web = w;
    const id = await start();
    const other = await start();
    const stream = await openStream(port, b, id);
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(stream.res.headers["cache-control"]).toBe("no-store");
    expect(stream.res.headers["x-frame-options"]).toBe("DENY");
    await until("the snapshot", () => stream.events.length > 0);
    expect(stream.events[0]).toEqual({ type: "snapshot", runId: id, status: "awaiting_approval" });

    await w.runner.approve("gated", { runId: other, actor: "api:bob" });
    await w.runner.approve("gated", { runId: id, actor: "api:bob" });
    await stream.ended;
    const types = stream.events.map((e) => e.type);
    expect(types).toEqual(["snapshot", "approval_decided", "step_started", "step_finished", "step_started", "step_finished", "run_finished"]);
    expect(stream.events.every((e) => e.runId === id)).toBe(true);
    expect(stream.events[1]).toMatchObject({ sop: "gated", checkpoint: "step:1", status: "approved", by: "api:bob" });
    expect(stream.events.at(-1)).toMatchObject({ status: "success" });
    expect(String(stream.events[1]?.at)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("ends at once for a run that already ended, and answers 404 for an unknown run", async () => {
    const { w, b, port, start } = await setUp();
    web = w;
    const id = await start();
    await w.runner.deny("gated", { runId: id, actor: "api:bob" });
    await until("the run to end", async () => (await w.runner.run(id))?.run.status === "denied");
    const stream = await openStream(port, b, id);
    await stream.ended;
    expect(stream.events).toEqual([{ type: "snapshot", runId: id, status: "denied" }]);
    const missing = await w.app.inject({ method: "GET", url: "/runs/nope/events", headers: { cookie: b.cookie } });
    expect(missing.statusCode).toBe(404);
  });

  it("does not keep the server from closing", async () => {
    const { w, b, port, start } = await setUp();
    web = w;
    const stream = await openStream(port, b, await start());
    await until("the snapshot", () => stream.events.length > 0);
    await w.app.close();
    await stream.ended;
  });
});
