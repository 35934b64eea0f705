import { createWriteStream } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServeProcess } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import { Workspace, steps } from "../helpers/workspace.ts";

let ws: Workspace;
let serve: ServeProcess | undefined;

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  if (serve) expect(await serve.stop()).toBe(0);
  serve = undefined;
  await ws.remove();
});

interface RunBrief { run_id: string; status: string; trigger: { type: string; source?: string } }

async function runsOf(sop: string): Promise<RunBrief[]> {
  return (await serve!.api<{ runs: RunBrief[] }>("GET", `/api/runs?sop=${sop}`)).json.runs;
}

/** Write a file slowly, in chunks, as a copy over a network share would. */
async function slowCopy(path: string, chunks: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < chunks; i++) {
    out.write(Buffer.alloc(256 * 1024, i));
    // The writer's pace, not a wait for the bot: chokidar sees the size grow on the real clock.
    await new Promise((r) => setTimeout(r, 40));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

describe("file_watch triggers", () => {
  it("fire once per copied file, on a folder that did not exist at start, with the file's vars", async () => {
    await ws.addSop("ingest", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "drop/*.tar.gz"\nevent = "create"`,
      steps('**Record**\n```sh\necho "$SOP_VAR_FILE_NAME $SOP_VAR_FILE_EVENT" >> "$TMPDIR/seen"\n```'));
    serve = await ServeProcess.start(ws);
    expect(serve.hasLog(/^triggers: 0 schedule, 1 file_watch/)).toBeDefined();
    await mkdir(join(ws.root, "drop"));
    // chokidar (in the serve process) starts watching a new folder on its own time and says
    // nothing when it has: a file made before that would go unseen.
    await new Promise((r) => setTimeout(r, 300));
    await slowCopy(join(ws.root, "drop", "a.tar.gz"), 8);
    await writeFile(join(ws.root, "drop", "ignored.txt"), "not a tarball");
    await slowCopy(join(ws.root, "drop", "b.tar.gz"), 3);
    await until("two runs to succeed", async () => (await runsOf("ingest")).filter((r) => r.status === "success").length === 2);
    // A file dropped after both fires after any late duplicate event of theirs.
    await writeFile(join(ws.root, "drop", "c.tar.gz"), "marker");
    await until("the marker file's run to succeed", async () => (await runsOf("ingest")).some((r) => r.status === "success" && r.trigger.source?.endsWith("c.tar.gz")));
    const runs = await runsOf("ingest");
    expect(runs).toHaveLength(3);
    expect(runs.map((r) => r.trigger.source).sort()).toEqual(["a", "b", "c"].map((n) => join(ws.root, "drop", `${n}.tar.gz`)));
    expect((await readFile(join(ws.tmpDir, "seen"), "utf8")).split("\n").filter(Boolean).sort()).toEqual(["a.tar.gz create", "b.tar.gz create", "c.tar.gz create"]);
    const [record] = (await ws.auditFiles("ingest")).filter((r) => r.vars["file_name"] === "a.tar.gz");
    expect(record).toMatchObject({ trigger: { type: "file_watch" }, requested_by: "trigger:file_watch", vars: { file_path: join(ws.root, "drop", "a.tar.gz"), file_event: "create" } });
  });

  it("fire on delete and on change for their own events only", async () => {
    await mkdir(join(ws.root, "watched"));
    await writeFile(join(ws.root, "watched", "config.yml"), "a: 1\n");
    const note = steps("**Note**");
    await ws.addSop("on-change", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "watched/config.yml"\nevent = "change"`, note);
    await ws.addSop("on-delete", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "${join(ws.root, "watched")}/*.yml"\nevent = "delete"`, note);
    await ws.addSop("on-create", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "watched/marker.yml"\nevent = "create"`, note);
    serve = await ServeProcess.start(ws);
    await writeFile(join(ws.root, "watched", "config.yml"), "a: 2\n");
    await until("the change run", async () => (await runsOf("on-change")).length === 1);
    await rm(join(ws.root, "watched", "config.yml"));
    await until("the delete run", async () => (await runsOf("on-delete")).length === 1);
    // A file made after the delete fires after any stray event of the change or the delete.
    await writeFile(join(ws.root, "watched", "marker.yml"), "marker\n");
    await until("the marker's run", async () => (await runsOf("on-create")).length === 1);
    expect(await runsOf("on-change")).toHaveLength(1);
    expect(await runsOf("on-delete")).toHaveLength(1);
  });
});

describe("schedule triggers", () => {
  it("refuse a firing while the previous run still goes, and count it in /metrics", async () => {
    await ws.addSop("tick", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 1\n[[triggers]]\ntype = "schedule"\ncron = "* * * * * *"\ntimezone = "Europe/Paris"`,
      steps('**Slow**\n```sh\nsleep 2\n```'));
    serve = await ServeProcess.start(ws);
    const refused = await until("a refused firing in the metrics", async () => {
      const text = await (await fetch(`${serve!.url}/metrics`)).text();
      const count = /^sop_runs_refused_total\{sop="tick",reason="max_concurrent",trigger="schedule"\} (\d+)$/m.exec(text)?.[1];
      return count !== undefined && Number(count) >= 2 && text;
    }, 15_000);
    expect(refused).toMatch(/^sop_trigger_firings_total\{type="schedule",sop="tick",outcome="started"\} [1-9]/m);
    expect(refused).toMatch(/^sop_runs_accepted_total\{sop="tick",trigger="schedule",via="schedule"\} [1-9]/m);
    expect(refused).toMatch(/^sop_trigger_firings_total\{type="schedule",sop="tick",outcome="refused"\} [1-9]/m);
    const runs = await runsOf("tick");
    expect(runs.filter((r) => r.status !== "success" && r.status !== "failed").length).toBeLessThanOrEqual(1);
    expect(runs.every((r) => r.trigger.type === "schedule" && r.trigger.source === "* * * * * *")).toBe(true);
    expect(serve.hasLog(/schedule trigger of tick refused: tick already has 1 run going \(max_concurrent = 1\)/)).toBeDefined();
  });

  it("refuse a firing in the cooldown", async () => {
    await ws.addSop("cooling", `description = "x"\nexecution_mode = "automatic"\ncooldown_secs = 3600\n[[triggers]]\ntype = "schedule"\ncron = "* * * * * *"`, steps("**Note**"));
    serve = await ServeProcess.start(ws);
    await until("a cooldown refusal", () => serve!.hasLog(/schedule trigger of cooling refused: cooling is cooling down/), 10_000);
    expect(await runsOf("cooling")).toHaveLength(1);
  });
});

describe("hot reload", () => {
  it("picks up a new SOP, keeps the last good version on a broken edit, and drops a removed one", async () => {
    await ws.addExample("hello");
    serve = await ServeProcess.start(ws);
    const names = async () => (await serve!.api<{ sops: { name: string; description: string }[] }>("GET", "/api/sops")).json.sops;
    await ws.addSop("fresh", `description = "first version"\nexecution_mode = "automatic"`, steps("**Note**"));
    await until("the new SOP to appear", async () => (await names()).some((s) => s.name === "fresh"));
    await writeFile(join(ws.sopsDir, "fresh", "SOP.toml"), `[sop]\nname = "fresh"\ndescription = "broken"\npriority = "urgent"\n`);
    const error = await until("the located error in the log", () => serve!.hasLog(/fresh\/SOP\.toml:4:12: \[sop\]\.priority must be one of/));
    expect(error.level).toBe(50);
    expect(serve.hasLog(/^SOPs reloaded: a broken edit: its SOP keeps its last good version \(the errors follow\)/)?.level).toBe(30);
    expect((await names()).find((s) => s.name === "fresh")?.description).toBe("first version");
    const run = await serve.api<{ run_id: string }>("POST", "/api/sop/execute", { body: { sop: "fresh" } });
    expect(run.status).toBe(202);
    await writeFile(join(ws.sopsDir, "fresh", "SOP.toml"), `[sop]\nname = "fresh"\ndescription = "second version"\nexecution_mode = "automatic"\n`);
    await until("the fixed SOP to load", async () => (await names()).find((s) => s.name === "fresh")?.description === "second version");
    await rm(join(ws.sopsDir, "fresh"), { recursive: true });
    await until("the removed SOP to go", async () => !(await names()).some((s) => s.name === "fresh"));
    expect((await names()).map((s) => s.name)).toEqual(["hello"]);
    // Its runs are still there to read.
    expect((await serve.api("GET", `/api/runs/${run.json.run_id}`)).status).toBe(200);
  });

  it("parses nothing at a second start, and only the edited SOP when one changes", async () => {
    for (const name of ["hello", "db-backup", "deploy-production"]) await ws.addExample(name);
    serve = await ServeProcess.start(ws);
    expect(serve.hasLog(/^SOPs: 3 loaded/)).toMatchObject({ parsed: 3 });
    expect(await serve.stop()).toBe(0);
    serve = await ServeProcess.start(ws);
    expect(serve.hasLog(/^SOPs: 3 loaded/)).toMatchObject({ parsed: 0 });
    const toml = join(ws.sopsDir, "hello", "SOP.toml");
    await writeFile(toml, (await readFile(toml, "utf8")).replace(/^description = .*$/m, 'description = "edited"'));
    const reloaded = await until("the edit to load", () => serve!.hasLog(/SOPs reloaded: changed hello/));
    expect(reloaded).toMatchObject({ read: 1, parsed: 1 });
  });

  it("arms the triggers of a new SOP and disarms those of a removed one", async () => {
    // Watches the same folder throughout: its run for a file shows that file's events were handled.
    await ws.addSop("keeper", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "inbox/*"\nevent = "create"`, steps("**Note**"));
    serve = await ServeProcess.start(ws);
    await ws.addSop("late", `description = "x"\nexecution_mode = "automatic"\nmax_concurrent = 5\n[[triggers]]\ntype = "file_watch"\npath = "inbox/*"\nevent = "create"`, steps("**Note**"));
    await until("the SOP to load", () => serve!.hasLog(/SOPs reloaded: added late/));
    await mkdir(join(ws.root, "inbox"));
    await writeFile(join(ws.root, "inbox", "one"), "1");
    await until("the file_watch run", async () => (await runsOf("late")).length === 1);
    await rm(join(ws.sopsDir, "late"), { recursive: true });
    await until("the SOP to go", () => serve!.hasLog(/SOPs reloaded: removed late/));
    await writeFile(join(ws.root, "inbox", "two"), "2");
    await until("the keeper's run for the second file to succeed", async () =>
      (await runsOf("keeper")).some((r) => r.status === "success" && r.trigger.source === join(ws.root, "inbox", "two")));
    expect(await runsOf("late")).toHaveLength(1);
  });
});
