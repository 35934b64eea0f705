/** The server's info log tells each run's story: accepted or refused, started, waiting, decided, finished. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

describe("the server log", () => {
  let ws: Workspace;
  let serve: ServeProcess | undefined;

  beforeEach(async () => {
    ws = await Workspace.create();
  });
  afterEach(async () => {
    await serve?.stop();
    serve = undefined;
    await ws.remove();
  });

  it("says when a run is accepted, refused, waits, is decided and finishes", async () => {
    await ws.addSop("gated", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 3600\n[approval]\napprovers = ["api:bob"]`, steps(
      "**Deploy** [requires_approval: true]\n```sh\necho deployed\n```",
    ));
    serve = await ServeProcess.start(ws);
    const { json } = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "gated" } });
    const id = json.run_id;
    expect((await serve.api("POST", "/api/sop/execute", { body: { sop: "gated" } })).status).toBe(429);
    await serve.runUntil(id, "the run to wait", (r) => r.status === "awaiting_approval");
    await serve.api("POST", "/api/sop/approve", { body: { sop: "gated", run_id: id }, token: null, headers: { authorization: "Bearer tok-bob-0123456789" } });
    await serve.runUntil(id, "the run to end", (r) => r.status === "success");
    const story = await until("the log to tell the whole story", () => {
      const lines = serve!.logs.filter((l) => l["runId"] === id).map((l) => l.msg);
      return lines.some((l) => l.includes("finished")) ? lines : undefined;
    });
    expect(story).toEqual([
      `run ${id} of gated accepted: manual from api, requested by api:alice`,
      `run ${id} of gated started`,
      `run ${id} of gated waits for approval at step:1 (requires_approval); who may decide: api:bob`,
      `run ${id} of gated: step:1 approved by api:bob`,
      expect.stringMatching(new RegExp(`^run ${id} of gated finished: success in \\d+`)),
    ]);
    // The refusal is logged as it happens, the start when the bus announces it: their order is not fixed.
    expect(serve.logs.filter((l) => /run of gated refused/.test(l.msg)).map((l) => l.msg)).toEqual([
      expect.stringMatching(/^run of gated refused for api:alice: gated is cooling down: \d+ s left/),
    ]);
    expect(serve.logs.filter((l) => l["runId"] === id && l.level === 30).length).toBeGreaterThanOrEqual(5);
  });
});
