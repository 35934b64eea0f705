/** What a recovery does with the command a dead worker left running: stop it here, or say it may run elsewhere. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandProcess } from "../../src/core/run/run-state.ts";
import { groupAlive, startTicksOf, thisMachine } from "../../src/exec/process-identity.ts";
import { stopOrphan } from "../../src/exec/stop-orphan.ts";
import { until } from "../helpers/until.ts";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid !== undefined) try { process.kill(-c.pid, "SIGKILL"); } catch { /* gone */ }
});

/** A command group as the executor starts one: its own process group, a shell with a child. */
async function orphan(script = "sleep 60 & sleep 60; wait"): Promise<CommandProcess> {
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" });
  children.push(child);
  const pgid = child.pid!;
  const startTicks = await until("the leader's start time", () => startTicksOf(pgid));
  const here = thisMachine();
  return { host: here.host, machine: here.machine!, pgid, startTicks, commandIndex: 0, attempt: 0 };
}

describe("stopOrphan", () => {
  it("stops the whole process group of a command on this machine", async () => {
    const proc = await orphan();
    expect(await groupAlive(proc.pgid)).toBe(true);
    expect(await stopOrphan(proc, thisMachine())).toBe(`its process group ${proc.pgid} on ${proc.host} was stopped`);
    expect(await groupAlive(proc.pgid)).toBe(false);
  });

  it("kills a group that ignores SIGTERM once the grace is over", async () => {
    const ready = join(tmpdir(), `stop-orphan-${process.pid}-${Date.now()}`);
    const proc = await orphan(`trap '' TERM; sleep 60 & touch ${ready}; wait`);
    await until("the group to ignore SIGTERM", () => existsSync(ready));
    rmSync(ready);
    expect(await stopOrphan(proc, thisMachine(), { graceMs: 200 })).toBe(`its process group ${proc.pgid} on ${proc.host} was killed`);
    expect(await groupAlive(proc.pgid)).toBe(false);
  });

  it("only says that a command on another machine may still be running, and signals nothing", async () => {
    const proc = await orphan();
    const elsewhere = { ...proc, host: "worker-b", machine: "another-boot/pid:[1]" };
    expect(await stopOrphan(elsewhere, thisMachine())).toBe(`it may still be running: process group ${proc.pgid} on worker-b`);
    expect(await groupAlive(proc.pgid)).toBe(true);
  });

  it("leaves alone a group whose leader started at another time (its id was reused)", async () => {
    const proc = await orphan();
    expect(await stopOrphan({ ...proc, startTicks: "1" }, thisMachine())).toBe(`its process group ${proc.pgid} on ${proc.host} had ended`);
    expect(await groupAlive(proc.pgid)).toBe(true);
  });

  it("says the command had ended when nothing of its group is left alive", async () => {
    const proc = await orphan("sleep 0.3");
    await until("the group to end", async () => !(await groupAlive(proc.pgid)));
    expect(await stopOrphan(proc, thisMachine())).toBe(`its process group ${proc.pgid} on ${proc.host} had ended`);
  });
});
