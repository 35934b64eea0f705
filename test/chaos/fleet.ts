/**
 * The processes a scenario starts and kills: `sop serve` (ChaosServe, on a free port, restartable)
 * and `sop worker` (ChaosWorker). Every kill -9 is written to a KillLog with its time, so a
 * step that ran again can be told apart from one whose worker died before it could record it.
 * A process that exits without being killed is noted: nothing in these scenarios should crash.
 */
import type { ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { spawnSop } from "../helpers/cli.ts";
import { ServeProcess, type ApiAnswer } from "../helpers/serve-process.ts";
import { until } from "../helpers/until.ts";
import type { Workspace } from "../helpers/workspace.ts";
import { KEEP, type Cleanup } from "./harness.ts";

/** With CHAOS_KEEP=1, what each process said goes to `<workspace>/proc-logs/<name>-<pid>.log`. */
function keepLog(ws: Workspace, name: string, pid: number | undefined, text: string): void {
  if (!KEEP || text === "") return;
  const dir = join(ws.root, "proc-logs");
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${pid ?? "x"}.log`), text);
}

export interface Kill {
  pid: number;
  at: number;
  what: string;
}

export class KillLog {
  readonly kills: Kill[] = [];

  record(pid: number | undefined, what: string): void {
    if (pid !== undefined) this.kills.push({ pid, at: Date.now(), what });
  }
}

export interface FleetDeps {
  ws: Workspace;
  kills: KillLog;
  cleanup: Cleanup;
  /** Something went wrong that is no count by itself (a process crashed); for the notes. */
  note: (text: string) => void;
  log: (line: string) => void;
}

const tail = (text: string, n = 600): string => (text.length > n ? `…${text.slice(-n)}` : text);

/** `sop serve` that can be killed -9 and started again on the same workspace and environment. */
export class ChaosServe {
  proc: ServeProcess | undefined;
  /** Answering and not being killed: the /healthz poller looks at it only then. */
  up = false;
  /** Bumped at every start, so an answer from before a kill is not taken for the new process. */
  generation = 0;
  starts = 0;
  private killing = false;

  constructor(readonly name: string, private readonly deps: FleetDeps, readonly env: Record<string, string>) {
    deps.cleanup.push(`stop ${name}`, () => {
      this.up = false;
      this.killing = true;
      return this.proc?.stop("SIGKILL");
    });
  }

  get url(): string {
    if (!this.proc) throw new Error(`${this.name} has not started`);
    return this.proc.url;
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  async start(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const proc = await ServeProcess.start(this.deps.ws, this.env);
        this.proc = proc;
        this.generation++;
        this.starts++;
        this.up = true;
        void proc.wait().then((code) => {
          keepLog(this.deps.ws, this.name, proc.child.pid, `${proc.logs.map((l) => JSON.stringify(l)).join("\n")}\n${proc.stderr}`);
          if (this.proc !== proc || this.killing) return;
          this.up = false;
          this.deps.note(`${this.name} (pid ${proc.child.pid}) exited by itself with ${code ?? proc.child.signalCode}: ${tail(proc.output())}`);
        });
        return;
      } catch (err) {
        lastError = err;
        this.deps.note(`${this.name} did not start (attempt ${attempt + 1}): ${tail((err as Error).message)}`);
      }
    }
    throw lastError;
  }

  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.up = false;
    this.killing = true;
    try {
      this.deps.kills.record(proc.child.pid, this.name);
      await proc.stop("SIGKILL");
    } finally {
      this.killing = false;
    }
  }

  /** Whether the current process is gone (killed, or exited by itself). */
  get exited(): boolean {
    const child = this.proc?.child;
    return child === undefined || child.exitCode !== null || child.signalCode !== null;
  }

  api<T = Record<string, unknown>>(method: string, path: string, opts: Parameters<ServeProcess["api"]>[2] = {}): Promise<ApiAnswer<T>> {
    if (!this.proc) throw new Error(`${this.name} has not started`);
    return this.proc.api<T>(method, path, opts);
  }

  logLines(pattern: RegExp): string[] {
    return (this.proc?.logs ?? []).filter((l) => pattern.test(l.msg)).map((l) => l.msg);
  }
}

/** `sop worker` on Redis, ready once it says so on stderr. */
export class ChaosWorker {
  child: ChildProcess | undefined;
  private stderr = "";
  private killing = false;
  /** Starts and kills one after another: a kill never lands on a worker still starting. */
  private ops: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string, private readonly deps: FleetDeps, readonly env: Record<string, string>) {
    deps.cleanup.push(`stop ${name}`, () => this.hardStop());
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exited(): boolean {
    return this.child === undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  start(): Promise<void> {
    return this.serially(() => this.doStart());
  }

  kill9(): Promise<void> {
    return this.serially(() => this.doKill9());
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.ops.then(fn, fn);
    this.ops = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    const child = spawnSop(["worker"], { cwd: this.deps.ws.root, env: this.deps.ws.env(this.env) });
    this.child = child;
    this.stderr = "";
    child.stdout!.resume();
    child.stderr!.on("data", (d: Buffer) => {
      this.stderr += d.toString();
      keepLog(this.deps.ws, this.name, child.pid, d.toString());
    });
    child.on("exit", (code, signal) => {
      if (this.child !== child || this.killing) return;
      this.deps.note(`${this.name} (pid ${child.pid}) exited by itself with ${code ?? signal}: ${tail(this.stderr)}`);
    });
    await until(`${this.name} to be ready`, () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited while starting: ${tail(this.stderr)}`);
      return /sop worker: \d+ SOPs/.test(this.stderr);
    }, 30_000);
  }

  private async doKill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killing = true;
    try {
      this.deps.kills.record(child.pid, this.name);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    } finally {
      this.killing = false;
    }
  }

  private async hardStop(): Promise<void> {
    this.killing = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}
