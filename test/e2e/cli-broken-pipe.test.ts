/**
 * `sop … | head -1`: when the reader of its output goes away, `sop` ends quietly, with the exit
 * code it would have had, and without cutting short what it was doing. The real command as a
 * process, its stdout or stderr pipe closed before it writes a byte.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSop } from "../helpers/cli.ts";
import { Workspace } from "../helpers/workspace.ts";

let ws: Workspace;

beforeEach(async () => {
  ws = await Workspace.create();
  await ws.addExample("hello");
});
afterEach(async () => {
  await ws.remove();
});

/** Runs `sop …` with one of its output pipes closed at once; answers the exit and the other stream. */
function withReaderGone(args: string[], gone: "stdout" | "stderr"): Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnSop([...args, "--sops", ws.sopsDir, "--logs", ws.logsDir], { cwd: ws.root, env: ws.env({ DATA_DIR: ws.dataDir }) });
    child[gone]!.destroy();
    let other = "";
    child[gone === "stdout" ? "stderr" : "stdout"]!.on("data", (d: Buffer) => (other += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, other }));
  });
}

const STACK_TRACE = /EPIPE|Error:|^\s+at /m;

describe("sop with the reader of its output gone", () => {
  it.each([
    [["status", "hello"]],
    [["list"]],
    [["plan", "hello"]],
  ])("ends %j with exit 0 and no stack trace when stdout is closed", async (args) => {
    const r = await withReaderGone(args, "stdout");
    expect(r.other).not.toMatch(STACK_TRACE);
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it("runs an SOP to its end when stdout is closed, and exits with the run's code", async () => {
    const r = await withReaderGone(["run", "hello", "--json"], "stdout");
    expect(r.other).not.toMatch(STACK_TRACE);
    expect(r.code).toBe(0);
    expect((await ws.auditFiles("hello")).map((a) => a.status)).toEqual(["success"]);
  });

  it("still exits 2 for a usage error when stderr is closed", async () => {
    const r = await withReaderGone(["frobnicate"], "stderr");
    expect(r.other).not.toMatch(STACK_TRACE);
    expect(r).toMatchObject({ code: 2, signal: null });
  });
});
