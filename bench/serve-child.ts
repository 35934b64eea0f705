/**
 * `sop serve` as users start it (`node bin/sop.js serve`), as a child process of the benchmark,
 * on a free port, with a bearer token for the API. Every child spawned here is SIGKILLed when
 * this process exits, so a benchmark that throws or stalls never leaves a server behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { TempWorkspace } from "./temp-workspace.ts";

const SOP_BIN = new URL("../bin/sop.js", import.meta.url).pathname;
export const API_TOKEN = "secret";
const READY_MS = 30_000;
/** What is kept of a child's output for error messages. */
const OUTPUT_TAIL = 8_000;

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** A port nothing listens on right now (the OS picks it; it is free until someone else binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A child process whose stdout and stderr are drained (a full pipe would block it) and whose last output is kept. */
export class Child {
  private tail = "";
  readonly exited: Promise<void>;

  constructor(readonly proc: ChildProcess) {
    children.add(proc);
    const keep = (d: Buffer): void => {
      this.tail = (this.tail + d.toString()).slice(-OUTPUT_TAIL);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => proc.once("exit", () => {
      children.delete(proc);
      resolve();
    }));
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error("child process has no pid (spawn failed)");
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  /** SIGTERM, SIGKILL if still there after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function spawnChild(args: readonly string[], opts: { cwd: string; env: Record<string, string> }): Child {
  return new Child(spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] }));
}

export interface Serve {
  child: Child;
  url: string;
  /** Milliseconds from spawn to the first 200 from /healthz. */
  readyMs: number;
  /** The /healthz answer once ready. */
  health: Record<string, unknown>;
}

/**
 * Starts `sop serve` on the workspace (SOPS_DIR, LOGS_DIR, DATA_DIR under it, cwd its root so no
 * `.env` of the checkout is read) and resolves once `GET /healthz` answers 200.
 */
export async function startServe(ws: TempWorkspace, extraEnv: Record<string, string> = {}, opts: { readyMs?: number } = {}): Promise<Serve> {
  const readyWithin = opts.readyMs ?? READY_MS;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...ws.env(), SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir, PORT: String(port),
    API_TOKENS: `bench:${API_TOKEN}`, SOP_SHUTDOWN_GRACE_SECS: "1", ...extraEnv,
  };
  const t0 = performance.now();
  const child = spawnChild([SOP_BIN, "serve"], { cwd: ws.root, env });
  try {
    for (;;) {
      if (!child.running) throw new Error(`sop serve exited (${child.proc.signalCode ?? child.proc.exitCode}) before it was ready:\n${child.output()}`);
      if (performance.now() - t0 > readyWithin) throw new Error(`sop serve not ready after ${readyWithin / 1000} s:\n${child.output()}`);
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      if (res?.status === 200) {
        const readyMs = performance.now() - t0;
        return { child, url, readyMs, health: (await res.json()) as Record<string, unknown> };
      }
      await res?.body?.cancel();
      await sleep(25);
    }
  } catch (error) {
    await child.stop(1_000);
    throw error;
  }
}

/** Runs `fn` with a started `sop serve` and stops it afterwards, also when `fn` throws. */
export async function withServe<T>(ws: TempWorkspace, fn: (serve: Serve) => Promise<T>, extraEnv: Record<string, string> = {}): Promise<T> {
  const serve = await startServe(ws, extraEnv);
  try {
    return await fn(serve);
  } finally {
    await serve.child.stop();
  }
}

/** One API call with the bench token; throws on an unexpected status, with the body. */
export async function api<T>(serve: Serve, method: "GET" | "POST", path: string, body?: unknown, expect = [200, 202]): Promise<T> {
  const res = await fetch(`${serve.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Resident set of a live process from /proc/<pid>/status, in KiB (as Linux reports it). */
export function memoryKiB(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM"), anon: field("RssAnon"), file: field("RssFile") };
}
