/** `sop serve` as a child process on a free port, with its JSON log lines and a small API client. */
import type { ChildProcess } from "node:child_process";
import { request } from "node:http";
import { spawnSop } from "./cli.ts";
import { until } from "./until.ts";
import type { Workspace } from "./workspace.ts";

export const TOKENS = { alice: "tok-alice-0123456789", bob: "tok-bob-0123456789", carol: "tok-carol-0123456789" } as const;
export const API_TOKENS = Object.entries(TOKENS).map(([name, token]) => `${name}:${token}`).join(",");

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  json: T;
}

export class ServeProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  url = "";
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let buffered = "";
    child.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 0, msg: line });
        }
      }
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  }

  /** Start `sop serve` in the workspace; resolves once it listens. */
  static async start(ws: Workspace, env: Record<string, string> = {}): Promise<ServeProcess> {
    const child = spawnSop(["serve"], {
      cwd: ws.root,
      env: ws.env({
        SOPS_DIR: ws.sopsDir, LOGS_DIR: ws.logsDir, DATA_DIR: ws.dataDir, PORT: "0", API_TOKENS, SOP_SHUTDOWN_GRACE_SECS: "1",
        ...env,
      }),
    });
    const serve = new ServeProcess(child);
    let gone = false;
    void serve.exited.then(() => (gone = true));
    const line = await until("sop serve to listen", () => gone ? Promise.reject(new Error(`sop serve exited:\n${serve.output()}`)) : serve.logs.find((l) => l.msg.startsWith("HTTP: listening on")), 20_000);
    serve.url = /listening on (\S+)/.exec(line.msg)![1]!;
    return serve;
  }

  output(): string {
    return `${this.logs.map((l) => l.msg).join("\n")}\n${this.stderr}`;
  }

  hasLog(pattern: RegExp): LogLine | undefined {
    return this.logs.find((l) => pattern.test(l.msg));
  }

  async api<T = Record<string, unknown>>(method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? TOKENS.alice : opts.token;
    if (token !== null) headers["authorization"] = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { text };
    }
    return { status: res.status, headers: res.headers, json: json as T };
  }

  /**
   * POST a large body with node:http: the server may answer (413) and close before the body is
   * sent, which fetch reports as a failed write instead of the answer.
   */
  postLarge(path: string, body: string, token: string = TOKENS.alice): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${token}` },
      }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
        res.on("error", reject);
      });
      // EPIPE / ECONNRESET while writing after the answer came: the answer is what counts.
      req.on("error", (err) => setTimeout(() => reject(err), 2000));
      req.end(body);
    });
  }

  /** Poll a run until `check` holds for its record. */
  async runUntil(runId: string, what: string, check: (record: Record<string, unknown> & { status: string }) => boolean, ms = 15_000) {
    return until(what, async () => {
      const { json } = await this.api<Record<string, unknown> & { status: string }>("GET", `/api/runs/${runId}`);
      return check(json) ? json : undefined;
    }, ms);
  }

  /** Send a signal and wait for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  wait(): Promise<number | null> {
    return this.exited;
  }
}
