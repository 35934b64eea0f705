/**
 * The same `sop` commands in-process and against a running `sop serve` print the same and exit
 * the same: each is written once over a client, whichever way it goes. Two workspaces alike, one
 * worked in-process and one behind a server; the outputs are compared with run ids, durations,
 * the workspace's path and who acted (`local:<user>` or `api:alice`) made alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_SCRIPT, sop, sopOnTerminal, type CliResult } from "../helpers/cli.ts";
import { ServeProcess, TOKENS } from "../helpers/serve-process.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let local: Workspace;
let remote: Workspace;
let serve: ServeProcess;

beforeAll(async () => {
  [local, remote] = await Promise.all([Workspace.create(), Workspace.create()]);
  for (const ws of [local, remote]) {
    for (const name of ["deploy-production", "hello"]) await ws.addExample(name);
    await ws.addSop("one-at-a-time", `description = "one run at a time, each approved"\nmax_concurrent = 1`, steps("**Ship** [requires_approval: true]\n```sh\necho shipped\n```"));
  }
  serve = await ServeProcess.start(remote);
}, 60_000);

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await serve?.stop();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- unset if beforeAll failed
  await Promise.all([local?.remove(), remote?.remove()]);
});

/** In-process: the same folders as the server's, and no server to find (port 9 refuses). */
const localOpts = () => ({
  cwd: local.root,
  env: local.env({ SOPS_DIR: local.sopsDir, LOGS_DIR: local.logsDir, DATA_DIR: local.dataDir, SOP_SERVER_URL: "http://127.0.0.1:9" }),
});
const remoteOpts = () => ({ cwd: remote.root, env: remote.env({ SOP_SERVER_URL: serve.url, SOP_API_TOKEN: TOKENS.alice }) });

/** What may differ between two runs of one command: ids, times, paths and who acted. */
function alike(text: string, ws: Workspace): string {
  return text
    .replaceAll(ws.root, "<ws>")
    .replace(/\r\n/g, "\n")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<run>")
    .replace(/\d+\.\d s\b/g, "<t> s")
    // "cooldown 12 s left", "cooling down: 3583 s left": the two sides ask a second apart at times.
    .replace(/\b\d+ s left\b/g, "<n> s left")
    .replace(/("\w+_(ms|secs)": )\d+/g, "$1<n>")
    .replace(/\b(local|api):[\w.-]+/g, "<actor>");
}

async function both(args: string[]): Promise<{ local: CliResult; remote: CliResult }> {
  const [l, r] = await Promise.all([sop(args, localOpts()), sop(args, remoteOpts())]);
  return { local: l, remote: r };
}

function expectSame({ local: l, remote: r }: { local: CliResult; remote: CliResult }): void {
  expect({ code: r.code, stdout: alike(r.stdout, remote), stderr: alike(r.stderr, remote) })
    .toEqual({ code: l.code, stdout: alike(l.stdout, local), stderr: alike(l.stderr, local) });
}

describe("the sop CLI in-process and against sop serve", () => {
  it.skipIf(!HAS_SCRIPT)("sop run on a terminal asks at each gate and shows the same progress, step output and end both ways", async () => {
    const answers = [["step:3 (requires_approval)", "a\n"], ["step:5 (requires_approval)", "d\n"]] as const;
    const args = ["run", "deploy-production", "--var", "version=2.0.0"];
    const [l, r] = await Promise.all([sopOnTerminal(args, localOpts(), answers), sopOnTerminal(args, remoteOpts(), answers)]);
    const screen = alike(l.screen, local);
    // What both show: each step with its time and output, the gates asked and decided, the end.
    expect(screen).toMatch(/✓.*1\. Run Tests.* \(<t> s\)/);
    expect(screen).toContain("running the test suite for 2.0.0");
    expect(screen).toContain("step:3 (3. Deploy to Staging) waits for approval");
    expect(screen).toContain("approved step:3 of run <run>");
    expect(screen).toMatch(/✔.* step:3 approved by <actor>/);
    expect(screen).toContain("deploy-production: denied in <t> s");
    expect(l.code).toBe(1);
    expect({ code: r.code, screen: alike(r.screen, remote) }).toEqual({ code: l.code, screen });
  }, 60_000);

  it("sop status NAME shows the same runs and metrics both ways", async () => {
    const status = await both(["status", "deploy-production"]);
    expect(status.local.stdout).toMatch(/^ {2}1 runs, success rate 0%, duration p50 \d+\.\d s p95 \d+\.\d s, approval wait p50 \d+\.\d s/m);
    expectSame(status);
    expectSame(await both(["status", "deploy-production", "--json"]));
  }, 30_000);

  it("sop run without a terminal prints the same lines, durations and step output, and sop status RUN_ID the same run", async () => {
    const run = await both(["run", "hello", "--var", "who=you"]);
    expect(run.local.code).toBe(0);
    expect(run.local.stderr).toMatch(/✓ 1\. Greet \(\d+\.\d s\)\n {6}Hello, you!\n/);
    expectSame(run);
    const id = (r: CliResult) => /run (\S+) of hello: success/.exec(r.stdout)![1]!;
    const [l, r] = await Promise.all([
      sop(["status", id(run.local)], localOpts()), sop(["status", id(run.remote)], remoteOpts()),
    ]);
    expectSame({ local: l, remote: r });
  }, 30_000);

  it("sop run stops following a run queued behind one that waits for a person, and says so the same both ways", async () => {
    const first = await both(["run", "one-at-a-time"]);
    expect(first.local.stdout).toMatch(/waits at step:1/);
    expectSame(first);
    const second = await both(["run", "one-at-a-time"]);
    expect(second.local.stdout).toContain("is queued behind runs that wait for a person");
    expect(second.local.code).toBe(first.local.code);
    expectSame(second);
  }, 30_000);

  it("sop list and sop plan print the same", async () => {
    expectSame(await both(["list"]));
    expectSame(await both(["plan", "deploy-production", "--var", "tests_pass=true"]));
    expectSame(await both(["plan", "deploy-production", "--var", "tests_pass=true", "--json"]));
  }, 30_000);

  it("refuses the same with the same words and exit code: an unknown SOP, nothing waiting, a cooldown", async () => {
    const unknown = await both(["run", "nope"]);
    expect(unknown.local.code).toBe(4);
    expect(unknown.local.stderr).toContain('unknown SOP "nope"');
    expectSame(unknown);
    expectSame(await both(["status", "nope"]));
    const nothing = await both(["approve", "hello"]);
    expect(nothing.local.code).toBe(4);
    expectSame(nothing);
    const cooling = await both(["run", "deploy-production"]);
    expect(cooling.local.code).toBe(4);
    expect(cooling.local.stderr).toContain("deploy-production is cooling down");
    expectSame(cooling);
  }, 30_000);
});
