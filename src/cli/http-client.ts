/**
 * The CLI's way to a running `sop serve`: find it (SOP_SERVER_URL, else the server.json a server
 * writes in DATA_DIR, else http://127.0.0.1:3000), check it is a sop-runner through /healthz,
 * and call its API with a bearer token (SOP_API_TOKEN, else the first of API_TOKENS, else the
 * token that server generated for itself).
 */
import type { Config } from "../config/config.ts";
import { readServerFile } from "../config/server-file.ts";
import { Refusal, type RefusalBody } from "./sop-client.ts";

/** How the CLI names itself to a server (`sop-cli/<version of the API it speaks>`). */
export const CLI_USER_AGENT = "sop-cli/1";

export const DEFAULT_SERVER_URL = "http://127.0.0.1:3000";
const PROBE_MS = 1500;

export class ServerClient {
  constructor(readonly url: string, private readonly token: string | undefined) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    // The server records runs started this way as from the CLI, as when it runs in-process.
    const headers: Record<string, string> = { accept: "application/json", "user-agent": CLI_USER_AGENT };
    if (this.token !== undefined) headers["authorization"] = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      throw new Refusal("unreachable", `cannot reach the server at ${this.url}: ${(err as Error).message}`, {}, 1);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new Refusal("bad_response", `the server at ${this.url} answered ${res.status} with something that is not JSON`, {}, 1);
    }
    if (res.ok) return json as T;
    const err = json as { error?: string; code?: string } & RefusalBody;
    let message = err.error ?? `HTTP ${res.status}`;
    if (res.status === 401) message += this.token === undefined
      ? `; the server at ${this.url} needs a token: set SOP_API_TOKEN (or API_TOKENS)`
      : `; check SOP_API_TOKEN (or API_TOKENS) against the server at ${this.url}`;
    // SPEC §5.2's exit codes: a malformed request 2, a refusal 4, a server that failed 1.
    const exit = res.status === 400 ? 2 : res.status > 400 && res.status < 500 ? 4 : 1;
    throw new Refusal(err.code ?? String(res.status), message, {
      ...(err.runs ? { runs: err.runs } : {}), ...(err.retry_after_secs !== undefined ? { retry_after_secs: err.retry_after_secs } : {}),
    }, exit);
  }
}

/** A client when a sop-runner server answers, else undefined (the CLI then works in-process). */
export async function connectServer(config: Config, env: Readonly<Record<string, string | undefined>>): Promise<ServerClient | undefined> {
  const file = readServerFile(config.dataDir);
  const url = (env["SOP_SERVER_URL"] || file?.url || DEFAULT_SERVER_URL).replace(/\/+$/, "");
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(PROBE_MS), headers: { accept: "application/json" } });
    const health = (await res.json()) as { service?: string };
    if (health.service !== "sop-runner") return undefined;
  } catch {
    return undefined;
  }
  const token = env["SOP_API_TOKEN"] || config.apiTokens?.values().next().value || (file?.url === url ? file.token : undefined);
  return new ServerClient(url, token);
}
