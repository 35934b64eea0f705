/**
 * A small Slack on 127.0.0.1, for the real Bolt to talk to: the Web API (`SLACK_API_URL` =
 * `fake.apiUrl`) with channels that keep the messages posted and edited, user groups, response
 * URLs, a Socket Mode WebSocket, and switches to answer 429 or an error. `SlackUser` plays the
 * other direction: what Slack sends the bot when a person types a command, clicks or writes, over
 * HTTP (signed exactly as Slack signs) or over the socket.
 */
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseQuery, stringify as formEncode } from "node:querystring";
import { WebSocketServer, type WebSocket } from "ws";

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  /** The bearer token the call carried. */
  token?: string;
  /** Answered with a failure set by failNext / failAlways. */
  failed?: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: Block[];
  /** How many times chat.update changed it. */
  updates: number;
}

/** Block Kit as the fake sees it: loose on purpose, tests read what they need. */
export interface Block {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: BlockElement[];
  element?: BlockElement;
  label?: { text: string };
}

export interface BlockElement {
  type: string;
  text?: string | { type: string; text: string };
  action_id?: string;
  value?: string;
  style?: string;
  confirm?: unknown;
}

export interface FakeView {
  callback_id: string;
  private_metadata: string;
  title: { text: string };
  blocks: Block[];
}

export type Failure = { status: 429; retryAfter: number } | { status: number } | { error: string };

export interface AckFrame {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

const JSON_FIELDS = new Set(["blocks", "view", "attachments", "metadata"]);
const BOT = { user_id: "UBOT", bot_id: "BBOT", team_id: "T1", team: "Fake Team", user: "sop-runner", url: "https://fake.slack.test/" };

export class FakeSlack {
  readonly calls: ApiCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** Bodies posted to response URLs (Bolt's respond(), our own replies to forms), by URL. */
  readonly responses: { url: string; body: Record<string, unknown> }[] = [];
  /** Ack frames the bot sent over the socket. */
  readonly acks: AckFrame[] = [];
  /** User group id → member ids, for usergroups.users.list. */
  readonly groups = new Map<string, string[]>();
  socketConnections = 0;
  private readonly failures = new Map<string, { left: number; failure: Failure; when: (args: Record<string, unknown>) => boolean }>();
  private readonly sockets = new Set<WebSocket>();
  private readonly ackWaiters = new Map<string, (frame: AckFrame) => void>();
  private seq = 0;
  private responseSeq = 0;

  private constructor(private readonly server: Server, private readonly wss: WebSocketServer) {}

  static async start(): Promise<FakeSlack> {
    const server = createServer();
    const wss = new WebSocketServer({ server, path: "/link" });
    const fake = new FakeSlack(server, wss);
    server.on("request", (req, res) => {
      void readBody(req).then((raw) => {
        const answer = fake.handle(req, raw);
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    wss.on("connection", (socket) => fake.connected(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A fresh response URL, as Slack gives one with each command and click. */
  responseUrl(): string {
    return `${this.url}/response/${++this.responseSeq}`;
  }

  responsesTo(url: string): Record<string, unknown>[] {
    return this.responses.filter((r) => r.url === url).map((r) => r.body);
  }

  /** The next `count` calls of `method` (those whose args satisfy `when`) fail so. */
  failNext(method: string, count: number, failure: Failure, when: (args: Record<string, unknown>) => boolean = () => true): void {
    this.failures.set(method, { left: count, failure, when });
  }

  /** Every call of `method` (whose args satisfy `when`) fails so until heal(). */
  failAlways(method: string, failure: Failure, when: (args: Record<string, unknown>) => boolean = () => true): void {
    this.failures.set(method, { left: Infinity, failure, when });
  }

  heal(method: string): void {
    this.failures.delete(method);
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Someone deletes a message: it is gone, and chat.update on it answers message_not_found. */
  deleteMessage(message: FakeMessage): void {
    const at = this.messages.indexOf(message);
    if (at >= 0) this.messages.splice(at, 1);
  }

  /** Top-level messages of a channel, oldest first. */
  messagesIn(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === undefined);
  }

  threadOf(message: FakeMessage): FakeMessage[] {
    return this.messages.filter((m) => m.channel === message.channel && m.thread_ts === message.ts);
  }

  /** The first top-level message of the channel whose text shows `pattern`. */
  find(channel: string, pattern: string | RegExp): FakeMessage | undefined {
    return this.messagesIn(channel).find((m) => matches(textOf(m), pattern));
  }

  /** The args of the last chat.update of that message, if any. */
  lastUpdateOf(ts: string): Record<string, unknown> | undefined {
    return this.callsOf("chat.update").filter((c) => c.args["ts"] === ts && !c.failed).at(-1)?.args;
  }

  /** The view of the last views.open. */
  lastView(): FakeView | undefined {
    return this.callsOf("views.open").at(-1)?.args["view"] as FakeView | undefined;
  }

  /** Sends an envelope over the current socket and resolves with the bot's ack; `retry` > 0 redelivers it. */
  async envelope(type: "slash_commands" | "interactive" | "events_api", payload: unknown, timeoutMs = 5000, retry = 0): Promise<AckFrame> {
    const socket = [...this.sockets].at(-1);
    if (!socket) throw new Error("fake Slack: no Socket Mode connection");
    const envelope_id = randomUUID();
    const acked = new Promise<AckFrame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake Slack: no ack for ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.ackWaiters.set(envelope_id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
    socket.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== "events_api", retry_attempt: retry, retry_reason: retry ? "timeout" : "" }));
    return acked;
  }

  /** Slack asks the client to reconnect, as it does every few hours. */
  refreshSockets(): void {
    for (const s of this.sockets) s.send(JSON.stringify({ type: "disconnect", reason: "refresh_requested" }));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connected(socket: WebSocket): void {
    this.socketConnections++;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("message", (data) => {
      // The socket's binaryType is the default, "nodebuffer": every frame arrives as one Buffer.
      const frame = JSON.parse((data as Buffer).toString("utf8")) as AckFrame;
      this.acks.push(frame);
      this.ackWaiters.get(frame.envelope_id)?.(frame);
      this.ackWaiters.delete(frame.envelope_id);
    });
    socket.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "applink-fake" }, connection_info: { app_id: "A1" } }));
  }

  private handle(req: IncomingMessage, raw: string): { status: number; body: unknown; headers?: Record<string, string> } {
    const path = new URL(req.url ?? "/", this.url).pathname;
    if (path.startsWith("/response/")) {
      this.responses.push({ url: `${this.url}${path}`, body: JSON.parse(raw || "{}") as Record<string, unknown> });
      return { status: 200, body: { ok: true } };
    }
    const method = path.replace(/^\/api\//, "");
    const call: ApiCall = { method, args: parseArgs(raw, req.headers["content-type"]) };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (token) call.token = token;
    this.calls.push(call);
    const set = this.failures.get(method);
    if (set && set.left > 0 && set.when(call.args)) {
      if (--set.left === 0) this.failures.delete(method);
      const f = set.failure;
      call.failed = "error" in f ? f.error : String(f.status);
      if ("error" in f) return { status: 200, body: { ok: false, error: f.error } };
      if (f.status === 429) return { status: 429, body: { ok: false, error: "ratelimited" }, headers: { "retry-after": String((f as { retryAfter: number }).retryAfter) } };
      return { status: f.status, body: { ok: false, error: "fake_http_error" } };
    }
    return { status: 200, body: this.answer(method, call.args) };
  }

  private answer(method: string, args: Record<string, unknown>): unknown {
    const str = (k: string): string => (typeof args[k] === "string" ? args[k] : "");
    switch (method) {
      case "auth.test":
        return { ok: true, ...BOT };
      case "apps.connections.open":
        return { ok: true, url: `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/link?ticket=${randomUUID()}` };
      case "chat.postMessage": {
        // Slack takes a channel name here and answers with the channel's id.
        const channel = str("channel").startsWith("#") ? `C${str("channel").slice(1).toUpperCase().replace(/[^A-Z0-9]/g, "")}` : str("channel");
        const message: FakeMessage = { channel, ts: this.nextTs(), text: str("text"), blocks: (args["blocks"] as Block[] | undefined) ?? [], updates: 0 };
        if (str("thread_ts")) message.thread_ts = str("thread_ts");
        this.messages.push(message);
        return { ok: true, channel, ts: message.ts, message: { text: message.text, ts: message.ts } };
      }
      case "chat.update": {
        // chat.update only takes channel ids.
        const message = this.messages.find((m) => m.channel === str("channel") && m.ts === str("ts"));
        if (!message) return { ok: false, error: str("channel").startsWith("C") ? "message_not_found" : "channel_not_found" };
        message.text = str("text");
        if (args["blocks"]) message.blocks = args["blocks"] as Block[];
        message.updates++;
        return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
      }
      case "chat.postEphemeral":
        return { ok: true, message_ts: this.nextTs() };
      case "views.open":
        return { ok: true, view: { id: `V${++this.seq}`, ...(args["view"] as object) } };
      case "usergroups.users.list": {
        const users = this.groups.get(str("usergroup"));
        return users ? { ok: true, users } : { ok: false, error: "no_such_subteam" };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private nextTs(): string {
    return `1700000000.${String(++this.seq).padStart(6, "0")}`;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => resolve(raw));
  });
}

/** The Web API client posts a form whose structured fields (blocks, view) are JSON strings. */
function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes("json")) return JSON.parse(raw || "{}") as Record<string, unknown>;
  const args: Record<string, unknown> = { ...parseQuery(raw) };
  for (const key of JSON_FIELDS) if (typeof args[key] === "string") args[key] = JSON.parse(args[key]) as unknown;
  return args;
}

const matches = (text: string, pattern: string | RegExp): boolean => (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text));

/** What a person reads: every text of the blocks, buttons as [Label]. */
export function textOf(m: { text?: string; blocks?: Block[] }): string {
  if (!m.blocks?.length) return m.text ?? "";
  const out: string[] = [];
  for (const b of m.blocks) {
    if (b.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    for (const e of b.elements ?? []) out.push(e.type === "button" ? `[${labelOf(e)}]` : typeof e.text === "string" ? e.text : (e.text?.text ?? ""));
  }
  return out.join("\n");
}

export function buttonsOf(m: { blocks?: Block[] }): BlockElement[] {
  return (m.blocks ?? []).flatMap((b) => (b.type === "actions" ? (b.elements ?? []) : []));
}

export const labelOf = (e: BlockElement): string => (typeof e.text === "string" ? e.text : (e.text?.text ?? ""));

// ----- What Slack sends the bot -----

export interface Person {
  id: string;
  channel: string;
}

/** Slack's v0 signature of a request body. */
export function signature(secret: string, body: string, timestamp: number): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface Delivery {
  /** HTTP: the status and body of the bot's answer. */
  status?: number;
  body?: string;
  /** Socket Mode: the ack frame. */
  ack?: AckFrame;
}

export type Kind = "command" | "interactive" | "event";

/**
 * Slack's side of the conversation. Over HTTP each request is signed with the signing secret
 * and sent with exactly Slack's content types (Bolt compares them exactly); over the socket the
 * same payload travels in an envelope.
 */
export class SlackUser {
  constructor(
    private readonly fake: FakeSlack,
    private readonly to: { eventsUrl: string; signingSecret: string } | "socket",
  ) {}

  async command(command: string, text: string, who: Person): Promise<Delivery & { responseUrl: string }> {
    const responseUrl = this.fake.responseUrl();
    return { ...(await this.deliver("command", slashCommand(command, text, who, responseUrl))), responseUrl };
  }

  /** A click on the button with this action_id in `message`. */
  async click(message: FakeMessage, actionId: string, who: Person): Promise<Delivery & { responseUrl: string }> {
    const button = buttonsOf(message).find((b) => b.action_id === actionId);
    if (!button) throw new Error(`no button ${actionId} in message ${message.ts}`);
    return this.clickButton(button, who, { channel: message.channel, ts: message.ts });
  }

  /** A click on a button of any message, including ephemeral ones the fake never stored. */
  async clickButton(button: BlockElement, who: Person, where: { channel: string; ts?: string }): Promise<Delivery & { responseUrl: string }> {
    const responseUrl = this.fake.responseUrl();
    const ts = where.ts ?? "1700000000.999999";
    const payload = {
      type: "block_actions", token: "legacy", api_app_id: "A1", trigger_id: `trig.${randomUUID()}`,
      user: { id: who.id, username: who.id.toLowerCase(), name: who.id.toLowerCase(), team_id: BOT.team_id },
      team: { id: BOT.team_id, domain: "fake" }, enterprise: null, is_enterprise_install: false,
      container: { type: "message", message_ts: ts, channel_id: where.channel, is_ephemeral: where.ts === undefined },
      channel: { id: where.channel, name: "ops" },
      ...(where.ts ? { message: { type: "message", ts, user: BOT.user_id, bot_id: BOT.bot_id, text: "" } } : {}),
      state: { values: {} }, response_url: responseUrl,
      actions: [{ type: "button", action_id: button.action_id, block_id: "b1", value: button.value, text: { type: "plain_text", text: labelOf(button) }, action_ts: `${Date.now() / 1000}` }],
    };
    return { ...(await this.deliver("interactive", payload)), responseUrl };
  }

  /** Submits the last opened form, typing `value` into its first input. */
  async submitLastView(value: string, who: Person): Promise<Delivery> {
    const view = this.fake.lastView();
    if (!view) throw new Error("no form was opened");
    const input = view.blocks.find((b) => b.type === "input");
    const values = input?.block_id && input.element?.action_id ? { [input.block_id]: { [input.element.action_id]: { type: "plain_text_input", value } } } : {};
    const payload = {
      type: "view_submission", token: "legacy", api_app_id: "A1", trigger_id: `trig.${randomUUID()}`,
      team: { id: BOT.team_id, domain: "fake" }, enterprise: null, is_enterprise_install: false,
      user: { id: who.id, username: who.id.toLowerCase(), name: who.id.toLowerCase(), team_id: BOT.team_id },
      view: { ...view, id: "V1", team_id: BOT.team_id, type: "modal", hash: "h1", app_installed_team_id: BOT.team_id, state: { values } },
      response_urls: [],
    };
    return this.deliver("interactive", payload);
  }

  /** A message typed in a channel (`overrides` for subtypes, edits, threads); `payload` to send it again. */
  async message(text: string, who: Person, overrides: Record<string, unknown> = {}): Promise<Delivery & { ts: string; payload: Record<string, unknown> }> {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
    const payload = {
      token: "legacy", team_id: BOT.team_id, api_app_id: "A1", type: "event_callback", event_id: `Ev${randomUUID().slice(0, 8)}`, event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: BOT.team_id, user_id: BOT.user_id, is_bot: true, is_enterprise_install: false }],
      event: { type: "message", channel: who.channel, user: who.id, text, ts, event_ts: ts, channel_type: "channel", team: BOT.team_id, ...overrides },
    };
    return { ...(await this.deliver("event", payload)), ts, payload };
  }

  /**
   * Slack sending an event again, as it does when the ack was late or lost: over HTTP with
   * X-Slack-Retry-Num and X-Slack-Retry-Reason, over the socket as an envelope with retry_attempt.
   */
  async redeliver(payload: Record<string, unknown>, attempt = 1): Promise<Delivery> {
    return this.deliver("event", payload, attempt);
  }

  private async deliver(kind: Kind, payload: Record<string, unknown>, retry = 0): Promise<Delivery> {
    if (this.to === "socket") {
      const type = kind === "command" ? "slash_commands" : kind === "interactive" ? "interactive" : "events_api";
      return { ack: await this.fake.envelope(type, payload, 5000, retry) };
    }
    const { contentType, body } = encode(kind, payload);
    const headers = retry ? { "x-slack-retry-num": String(retry), "x-slack-retry-reason": "http_timeout" } : {};
    return sendSigned(this.to.eventsUrl, this.to.signingSecret, contentType, body, {}, headers);
  }
}

/** The form fields of a slash command, as Slack posts them. */
export function slashCommand(command: string, text: string, who: Person, responseUrl: string): Record<string, string> {
  return {
    token: "legacy", team_id: BOT.team_id, team_domain: "fake", channel_id: who.channel, channel_name: "ops",
    user_id: who.id, user_name: who.id.toLowerCase(), command, text, api_app_id: "A1", is_enterprise_install: "false",
    response_url: responseUrl, trigger_id: `trig.${randomUUID()}`,
  };
}

export function encode(kind: Kind, payload: Record<string, unknown>): { contentType: string; body: string } {
  if (kind === "event") return { contentType: "application/json", body: JSON.stringify(payload) };
  const body = kind === "command" ? formEncode(payload as Record<string, string>) : formEncode({ payload: JSON.stringify(payload) });
  return { contentType: "application/x-www-form-urlencoded", body };
}

/** POSTs as Slack does; `forge` changes the timestamp or signature to play an attacker. */
export async function sendSigned(url: string, secret: string, contentType: string, body: string, forge: { timestamp?: number; signature?: string } = {}, headers: Record<string, string> = {}): Promise<Delivery> {
  const timestamp = forge.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": forge.signature ?? signature(secret, body, timestamp),
      ...headers,
    },
    body,
  });
  return { status: res.status, body: await res.text() };
}
