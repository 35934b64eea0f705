/**
 * A fake Discord on 127.0.0.1 for the real discord.js: REST under `/api/v10` (gateway discovery,
 * command registration, channel messages and threads, interaction callbacks and their webhooks)
 * and the gateway over WebSocket on the same port (HELLO, IDENTIFY → READY + GUILD_CREATE,
 * heartbeats, RESUME with replay). It records what the bot sent, and builds the events a person
 * causes: messages, slash commands, autocomplete, button clicks and modal submits.
 *
 * Payloads follow what discord.js 14 reads: interactions need `entitlements` and
 * `authorizing_integration_owners`, a GUILD_CREATE needs `unavailable: false` and its channels,
 * and every answer is `application/json` with 17–19 digit snowflakes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIEmbed } from "discord.js";
import { WebSocketServer, type WebSocket } from "ws";

export type Json = Record<string, unknown>;

export const DISCORD = {
  token: "fake-discord-token.abc.def",
  app: "1100000000000000001",
  guild: "1100000000000000002",
  /** #ops, the default notification channel. */
  channel: "1100000000000000003",
  /** #deploys, where an SOP may send its own notifications. */
  deploys: "1100000000000000004",
  roles: { approvers: "1100000000000000010", operators: "1100000000000000011" },
  users: { alice: "1100000000000000101", bob: "1100000000000000102", carol: "1100000000000000103", mallory: "1100000000000000104" },
  /** Another server the bot was invited to (FakeDiscordOptions.otherGuild), and its #general. */
  other: { guild: "1100000000000000202", channel: "1100000000000000203" },
} as const;

const EPOCH = 1420070400000n;
let lastStamp = 0n;
let sequence = 0n;

/** Increasing snowflakes, shaped like Discord's (timestamp << 22 | counter). */
export function snowflake(): string {
  const stamp = BigInt(Date.now()) - EPOCH;
  sequence = stamp === lastStamp ? sequence + 1n : 0n;
  lastStamp = stamp > lastStamp ? stamp : lastStamp;
  return ((lastStamp << 22n) | (sequence & 0x3fffffn)).toString();
}

const BOT_USER = { id: DISCORD.app, username: "sop-runner", discriminator: "0", global_name: null, avatar: null, bot: true, flags: 0 };
const PERMISSIONS = "2248473465835073";

export interface RestRecord {
  method: string;
  path: string;
  query: string;
  auth: string | undefined;
  body: unknown;
  status: number;
}

export interface FakeButton {
  type: number;
  custom_id?: string;
  label?: string;
  style?: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: APIEmbed[];
  components: { type: number; components: FakeButton[] }[];
  message_reference?: { message_id: string };
  allowed_mentions?: unknown;
  /** Each PATCH body, in order. */
  edits: Json[];
}

/** What the bot answered to one interaction: callbacks (type 4 reply, 5 defer, 6 defer update, 7 update, 8 choices, 9 modal) and webhook calls. */
export interface InteractionAnswer {
  kind: "callback" | "edit" | "followup" | "delete";
  type?: number;
  data?: Json;
  body?: Json;
}

export interface FakeDiscordOptions {
  /** false: IDENTIFY with the Message Content intent is closed with 4014, as for an application without it. */
  messageContentAllowed?: boolean;
  /** false: starting a thread answers 50013 Missing Permissions. */
  threadsAllowed?: boolean;
  /** False: threads can be started, but posting in them answers 403 50001 (no Send Messages in Threads). */
  threadPostsAllowed?: boolean;
  heartbeatIntervalMs?: number;
  /** The bot is in a second server, DISCORD.other, too. */
  otherGuild?: boolean;
}

interface Interaction {
  id: string;
  token: string;
  channel_id: string;
}

const MESSAGE_CONTENT_INTENT = 1 << 15;

export class FakeDiscord {
  readonly requests: RestRecord[] = [];
  readonly messages: FakeMessage[] = [];
  readonly answers = new Map<string, InteractionAnswer[]>();
  /** Gateway opcodes received, in order (2 IDENTIFY, 6 RESUME …), with the intents of each IDENTIFY. */
  readonly gatewayFrames: { op: number; intents?: number }[] = [];
  /** Answer GET /gateway/bot with this status instead (401: a revoked token). */
  gatewayBotStatus: number | undefined;
  private readonly threads = new Map<string, string>();
  private readonly interactions = new Map<string, Interaction>();
  private rateLimited: { count: number; retryAfterSecs: number } = { count: 0, retryAfterSecs: 0 };
  private failedEdits: { count: number; status: number; code: number; message: string } = { count: 0, status: 0, code: 0, message: "" };
  private socket: WebSocket | undefined;
  private seq = 0;
  private sessionId = "";
  private missed: { t: string; d: unknown }[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(private readonly server: Server, private readonly o: FakeDiscordOptions) {}

  static async start(o: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    const fake = new FakeDiscord(server, o);
    server.on("request", (req, res) => void fake.rest(req, res));
    server.on("upgrade", (req, socket, head) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path !== "/gateway" && path !== "/resume-gateway") return socket.destroy();
      fake.wss.handleUpgrade(req, socket, head, (ws) => fake.connect(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** DISCORD_API_URL. */
  get api(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** The next `count` message creates answer 429 with this retry-after. */
  rateLimitMessageCreates(count: number, retryAfterSecs: number): void {
    this.rateLimited = { count, retryAfterSecs };
  }

  /** The next `count` message edits answer this error, as Discord does for a channel the bot lost access to. */
  failEdits(count: number, status: number, code: number, message: string): void {
    this.failedEdits = { count, status, code, message };
  }

  /** Someone deletes a message the bot posted: editing it answers 10008 Unknown Message. */
  deleteMessage(id: string): void {
    const at = this.messages.findIndex((m) => m.id === id);
    if (at >= 0) this.messages.splice(at, 1);
  }

  /** Closes the bot's gateway connection (4000: it should resume). */
  dropGateway(code = 4000): void {
    this.socket?.close(code, "fake drop");
    this.socket = undefined;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** A gateway event; while the bot is away it is kept and replayed when the bot resumes. */
  dispatch(t: string, d: unknown): void {
    if (!this.socket) {
      this.missed.push({ t, d });
      return;
    }
    this.send(this.socket, { op: 0, t, s: ++this.seq, d });
  }

  /** Sends an INTERACTION_CREATE and returns it, to look up the answers later. */
  interact<T extends Interaction>(payload: T): T {
    this.interactions.set(payload.token, payload);
    this.dispatch("INTERACTION_CREATE", payload);
    return payload;
  }

  answersTo(i: { token: string }): InteractionAnswer[] {
    return this.answers.get(i.token) ?? [];
  }

  /** The message an interaction's answer shows: the reply, or the last edit of the deferred reply, or a follow-up. */
  answerText(i: { token: string }): string {
    const shown = this.answersTo(i).filter((a) => a.kind === "followup" || a.kind === "edit" || (a.kind === "callback" && (a.type === 4 || a.type === 7)));
    const last = shown.at(-1);
    return last ? textOf((last.kind === "callback" ? last.data : last.body) ?? {}) : "";
  }

  /** Whether the answer to an interaction is visible to its caller only. */
  answeredPrivately(i: { token: string }): boolean {
    const first = this.answersTo(i).find((a) => a.kind === "callback");
    const followup = this.answersTo(i).filter((a) => a.kind === "followup").at(-1);
    const flags = Number((followup?.body ?? first?.data)?.["flags"] ?? 0);
    return (flags & 64) === 64;
  }

  /** Messages (posted in channels or threads) whose embed title matches, latest state. */
  find(title: string | RegExp, channel?: string): FakeMessage | undefined {
    return this.findAll(title, channel)[0];
  }

  findAll(title: string | RegExp, channel?: string): FakeMessage[] {
    return this.messages.filter((m) => (channel === undefined || m.channel_id === channel) && matches(m.embeds[0]?.title ?? "", title));
  }

  /** The message as an API object, as a button click carries it. */
  messageObject(m: FakeMessage): Json {
    return {
      id: m.id, channel_id: m.channel_id, guild_id: DISCORD.guild, author: BOT_USER, content: m.content, embeds: m.embeds, components: m.components,
      timestamp: new Date().toISOString(), edited_timestamp: null, tts: false, mention_everyone: false, mentions: [], mention_roles: [],
      attachments: [], pinned: false, type: 0, flags: 0, application_id: DISCORD.app,
    };
  }

  commandRegistrations(): { scope: "guild" | "global"; names: string[]; body: Json[] }[] {
    return this.requests
      .filter((r) => r.method === "PUT" && /\/commands$/.test(r.path))
      .map((r) => ({ scope: r.path.includes("/guilds/") ? "guild" as const : "global" as const, names: (r.body as Json[]).map((c) => String(c["name"])), body: r.body as Json[] }));
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------ gateway

  private send(ws: WebSocket, frame: Json): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  }

  private connect(ws: WebSocket): void {
    this.send(ws, { op: 10, s: null, t: null, d: { heartbeat_interval: this.o.heartbeatIntervalMs ?? 30_000 } });
    ws.on("close", () => {
      if (this.socket === ws) this.socket = undefined;
    });
    ws.on("message", (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { op: number; d: Json };
      this.gatewayFrames.push({ op: frame.op, ...(frame.op === 2 ? { intents: Number(frame.d["intents"]) } : {}) });
      if (frame.op === 1) this.send(ws, { op: 11, s: null, t: null, d: null });
      if (frame.op === 2) this.identify(ws, frame.d);
      if (frame.op === 6) this.resume(ws, frame.d);
    });
  }

  private identify(ws: WebSocket, d: Json): void {
    if (d["token"] !== DISCORD.token) return ws.close(4004, "Authentication failed");
    if (this.o.messageContentAllowed === false && (Number(d["intents"]) & MESSAGE_CONTENT_INTENT)) return ws.close(4014, "Disallowed intent(s)");
    this.socket = ws;
    this.seq = 0;
    this.missed = [];
    this.sessionId = `session-${snowflake()}`;
    const guilds = this.o.otherGuild ? [guildCreate(), otherGuildCreate()] : [guildCreate()];
    this.dispatch("READY", {
      v: 10, user: BOT_USER, guilds: guilds.map((g) => ({ id: g["id"], unavailable: true })), session_id: this.sessionId,
      resume_gateway_url: `ws://127.0.0.1:${this.port}/resume-gateway`, shard: [0, 1], application: { id: DISCORD.app, flags: 0 },
    });
    for (const guild of guilds) this.dispatch("GUILD_CREATE", guild);
  }

  private resume(ws: WebSocket, d: Json): void {
    if (d["session_id"] !== this.sessionId || d["token"] !== DISCORD.token) {
      this.send(ws, { op: 9, s: null, t: null, d: false });
      return;
    }
    this.socket = ws;
    for (const event of this.missed.splice(0)) this.dispatch(event.t, event.d);
    this.dispatch("RESUMED", {});
  }

  // ------------------------------------------------------------------------------------ REST

  private async rest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const body: unknown = raw ? JSON.parse(raw) : undefined;
    const record: RestRecord = { method: req.method ?? "", path: url.pathname.replace(/^\/api\/v10/, ""), query: url.search, auth: req.headers.authorization, body, status: 0 };
    this.requests.push(record);
    const answer = this.route(record, (body ?? {}) as Json, url);
    record.status = answer.status;
    if (answer.json === undefined) {
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(JSON.stringify(answer.json));
  }

  private route(r: RestRecord, body: Json, url: URL): { status: number; json?: unknown; headers?: Record<string, string> } {
    const { method, path } = r;
    let m: RegExpMatchArray | null;
    const authed = r.auth === `Bot ${DISCORD.token}`;
    const error = (status: number, code: number, message: string) => ({ status, json: { code, message } });

    // Interaction callbacks and webhooks are authorized by the interaction token, not the bot token.
    if (method === "POST" && (m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/))) {
      this.answer(m[2]!, { kind: "callback", type: Number(body["type"]), ...(body["data"] ? { data: body["data"] as Json } : {}) });
      if (url.searchParams.get("with_response") !== "true") return { status: 204 };
      return { status: 200, json: { interaction: { id: m[1], type: 2, response_message_id: null, response_message_loading: false, response_message_ephemeral: false }, resource: { type: body["type"] } } };
    }
    if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/))) {
      const token = m[2]!;
      const channel = this.interactions.get(token)?.channel_id ?? DISCORD.channel;
      if (method === "PATCH") this.answer(token, { kind: "edit", body });
      if (method === "POST") this.answer(token, { kind: "followup", body });
      if (method === "DELETE") {
        this.answer(token, { kind: "delete" });
        return { status: 204 };
      }
      return { status: 200, json: { ...apiMessage(snowflake(), channel, body), webhook_id: m[1], application_id: m[1] } };
    }

    if (!authed) return error(401, 0, "401: Unauthorized");
    if (method === "GET" && path === "/gateway/bot") {
      if (this.gatewayBotStatus) return error(this.gatewayBotStatus, 0, `${this.gatewayBotStatus}: fake refusal`);
      return {
        status: 200,
        json: { url: `ws://127.0.0.1:${this.port}/gateway`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 } },
      };
    }
    if (method === "PUT" && (m = path.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
      const commands = (body as unknown as Json[]).map((c) => ({ id: snowflake(), application_id: m![1], version: snowflake(), type: 1, default_member_permissions: null, ...(m![2] ? { guild_id: m![2] } : {}), ...c }));
      return { status: 200, json: commands };
    }
    if (method === "POST" && (m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/))) {
      if (this.o.threadsAllowed === false) return error(403, 50013, "Missing Permissions");
      if (this.threads.has(m[2]!)) return error(400, 160004, "A thread has already been created for this message");
      this.threads.set(m[2]!, m[1]!);
      return { status: 201, json: { id: m[2], type: 11, parent_id: m[1], guild_id: DISCORD.guild, name: body["name"] } };
    }
    if (method === "POST" && (m = path.match(/^\/channels\/(\d+)\/messages$/))) {
      const channel = m[1]!;
      if (!this.knows(channel)) return error(404, 10003, "Unknown Channel");
      if (this.o.threadPostsAllowed === false && this.threads.has(channel)) return error(403, 50001, "Missing Access");
      if (this.rateLimited.count > 0) {
        this.rateLimited.count--;
        const secs = this.rateLimited.retryAfterSecs;
        return { status: 429, json: { message: "You are being rate limited.", retry_after: secs, global: false }, headers: { "retry-after": String(secs), "x-ratelimit-scope": "user", "x-ratelimit-global": "false" } };
      }
      const stored: FakeMessage = {
        id: snowflake(), channel_id: channel, content: contentOf(body["content"]), embeds: (body["embeds"] ?? []) as APIEmbed[],
        components: (body["components"] ?? []) as FakeMessage["components"], edits: [],
        ...(body["message_reference"] ? { message_reference: body["message_reference"] as { message_id: string } } : {}),
        ...(body["allowed_mentions"] ? { allowed_mentions: body["allowed_mentions"] } : {}),
      };
      this.messages.push(stored);
      return { status: 200, json: apiMessage(stored.id, channel, body) };
    }
    if (method === "PATCH" && (m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/))) {
      if (this.failedEdits.count > 0) {
        this.failedEdits.count--;
        return error(this.failedEdits.status, this.failedEdits.code, this.failedEdits.message);
      }
      const stored = this.messages.find((x) => x.id === m![2] && x.channel_id === m![1]);
      if (!stored) return error(404, 10008, "Unknown Message");
      stored.edits.push(body);
      if ("content" in body) stored.content = contentOf(body["content"]);
      if ("embeds" in body) stored.embeds = body["embeds"] as APIEmbed[];
      if ("components" in body) stored.components = body["components"] as FakeMessage["components"];
      return { status: 200, json: apiMessage(stored.id, stored.channel_id, { ...body, content: stored.content }) };
    }
    return error(404, 0, `404: no fake route for ${method} ${path}`);
  }

  private knows(channel: string): boolean {
    // The other server's channel too: a reply the bot should not send there must still be seen.
    return channel === DISCORD.channel || channel === DISCORD.deploys || (this.o.otherGuild === true && channel === DISCORD.other.channel) || this.threads.has(channel);
  }

  private answer(token: string, a: InteractionAnswer): void {
    const list = this.answers.get(token) ?? [];
    list.push(a);
    this.answers.set(token, list);
  }
}

function matches(text: string, pattern: string | RegExp): boolean {
  return typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
}

/** A message's content as the client sent it: a string, or absent. */
function contentOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function apiMessage(id: string, channel: string, body: Json): Json {
  return {
    id, channel_id: channel, author: BOT_USER, content: body["content"] ?? "", embeds: body["embeds"] ?? [], components: body["components"] ?? [],
    timestamp: new Date().toISOString(), edited_timestamp: null, tts: false, mention_everyone: false, mentions: [], mention_roles: [],
    attachments: [], pinned: false, type: body["message_reference"] ? 19 : 0, flags: body["flags"] ?? 0,
  };
}

/** Title, description, fields, buttons, footer and content of a message body, one per line. */
export function textOf(body: Json | FakeMessage): string {
  const embeds = (body["embeds" as keyof typeof body] ?? []) as APIEmbed[];
  const rows = (body["components" as keyof typeof body] ?? []) as FakeMessage["components"];
  const parts: string[] = [];
  if (body["content" as keyof typeof body]) parts.push(String(body["content" as keyof typeof body]));
  for (const e of embeds) {
    parts.push(e.title ?? "", e.description ?? "", ...(e.fields ?? []).map((f) => `${f.name}: ${f.value}`), e.footer?.text ?? "");
  }
  for (const row of rows) for (const b of row.components) parts.push(`[${b.label ?? ""}]`);
  return parts.filter(Boolean).join("\n");
}

/** The custom ids of a message's buttons, by label. */
export function buttonsOf(m: FakeMessage): Record<string, string> {
  return Object.fromEntries(m.components.flatMap((row) => row.components).map((b) => [b.label ?? "", b.custom_id ?? ""]));
}

function guildCreate(guild: string = DISCORD.guild, roles: [string, string][] = [[DISCORD.roles.approvers, "sop-approvers"], [DISCORD.roles.operators, "operators"]], channels: [string, string][] = [[DISCORD.channel, "ops"], [DISCORD.deploys, "deploys"]]): Json {
  const role = (id: string, name: string, position: number) => ({
    id, name, permissions: id === guild ? "1071698660929" : "0", position, color: 0, hoist: false, managed: false, mentionable: true, flags: 0,
  });
  const channel = (id: string, name: string, position: number) => ({ id, type: 0, name, guild_id: guild, position, parent_id: null, permission_overwrites: [], topic: null, nsfw: false, rate_limit_per_user: 0, last_message_id: null });
  return {
    id: guild, name: guild === DISCORD.guild ? "Fake Guild" : "Other Guild", icon: null, owner_id: DISCORD.users.alice, unavailable: false, member_count: 5, large: false,
    joined_at: new Date().toISOString(), features: [],
    roles: [role(guild, "@everyone", 0), ...roles.map(([id, name], n) => role(id, name, n + 1))],
    channels: channels.map(([id, name], n) => channel(id, name, n)),
    members: [{ user: BOT_USER, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
    threads: [], presences: [], voice_states: [], emojis: [], stickers: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
  };
}

/** A server of strangers: no roles, one channel. */
const otherGuildCreate = (): Json => guildCreate(DISCORD.other.guild, [], [[DISCORD.other.channel, "general"]]);

// ------------------------------------------------------------------------------------ events

export interface Person {
  id: string;
  roles?: readonly string[];
}

function memberOf(p: Person): Json {
  return {
    user: { id: p.id, username: `user-${p.id.slice(-3)}`, discriminator: "0", global_name: null, avatar: null },
    roles: p.roles ?? [], permissions: PERMISSIONS, joined_at: "2024-01-01T00:00:00.000Z", nick: null, avatar: null,
    deaf: false, mute: false, pending: false, flags: 0, premium_since: null, communication_disabled_until: null,
  };
}

function interaction(type: number, data: Json, person: Person, channel: string = DISCORD.channel) {
  return {
    id: snowflake(), application_id: DISCORD.app, type, data, token: `itoken-${snowflake()}`, version: 1,
    guild_id: DISCORD.guild, guild: { id: DISCORD.guild, locale: "en-US", features: [] },
    channel_id: channel, channel: { id: channel, type: 0, name: "ops", guild_id: DISCORD.guild, permissions: PERMISSIONS, flags: 0, position: 0, parent_id: null, nsfw: false },
    member: memberOf(person), app_permissions: PERMISSIONS, locale: "en-US", guild_locale: "en-US",
    entitlements: [], authorizing_integration_owners: { 0: DISCORD.guild }, context: 0, attachment_size_limit: 10485760,
  };
}

/** A string option; `focused` while the person is still typing it (autocomplete). */
export const option = (name: string, value: string, focused = false): Json => ({ type: 3, name, value, ...(focused ? { focused: true } : {}) });

/** `/approve name:x`: `slashCommand("approve", [option("name", "x")], alice)`; `/sop run`: `slashCommand("sop", [option…], alice, "run")`. */
export function slashCommand(name: string, options: Json[], person: Person, subcommand?: string) {
  const opts = subcommand ? [{ type: 1, name: subcommand, options }] : options;
  return interaction(2, { id: snowflake(), name, type: 1, guild_id: DISCORD.guild, options: opts }, person);
}

/** The person is typing an option: the focused one is in `options` with `focused`. */
export function autocomplete(name: string, options: Json[], person: Person, subcommand?: string) {
  const opts = subcommand ? [{ type: 1, name: subcommand, options }] : options;
  return { ...interaction(4, { id: snowflake(), name, type: 1, guild_id: DISCORD.guild, options: opts }, person) };
}

/** A click on a button of `message` (a message object, see FakeDiscord.messageObject). */
export function buttonClick(customId: string, person: Person, message: Json) {
  return { ...interaction(3, { custom_id: customId, component_type: 2 }, person, String(message["channel_id"])), message };
}

/** A submitted modal: the text inputs' values by custom id, in labels as the bot showed them. */
export function modalSubmit(customId: string, values: Record<string, string>, person: Person) {
  const components = Object.entries(values).map(([id, value]) => ({ type: 18, id: 1, component: { type: 4, id: 2, custom_id: id, value } }));
  return interaction(5, { custom_id: customId, components }, person);
}

/** A message a person types in a channel. */
export function messageCreate(content: string, person: Person, channel: string = DISCORD.channel, bot = false): Json {
  const member = memberOf(person);
  return {
    id: snowflake(), channel_id: channel, guild_id: DISCORD.guild,
    author: { ...(member["user"] as Json), bot }, member: { ...member, user: undefined },
    content, timestamp: new Date().toISOString(), edited_timestamp: null, tts: false, mention_everyone: false, mentions: [], mention_roles: [],
    attachments: [], embeds: [], pinned: false, type: 0, flags: 0, components: [],
  };
}

/** The same event, happening in the other server's #general (a message or an interaction). */
export function inOtherGuild<T extends Json>(event: T): T {
  const { guild, channel } = DISCORD.other;
  const moved: Json = { ...event, guild_id: guild, channel_id: channel };
  if (event["guild"]) moved["guild"] = { ...(event["guild"] as Json), id: guild };
  if (event["channel"]) moved["channel"] = { ...(event["channel"] as Json), id: channel, name: "general", guild_id: guild };
  if (event["authorizing_integration_owners"]) moved["authorizing_integration_owners"] = { 0: guild };
  if (event["data"] && (event["data"] as Json)["guild_id"]) moved["data"] = { ...(event["data"] as Json), guild_id: guild };
  if (event["message"]) moved["message"] = { ...(event["message"] as Json), guild_id: guild, channel_id: channel };
  return moved as T;
}

/** The same interaction, sent in a direct message with the bot: no server, no member, no roles. */
export function inDirectMessage<T extends Json>(event: T): T {
  const { guild_id: _guild, guild: _g, member, ...rest } = event as Json;
  const dm = snowflake();
  return {
    ...rest, user: (member as Json)["user"], channel_id: dm, channel: { id: dm, type: 1, flags: 0, recipients: [(member as Json)["user"]] },
    context: 1, authorizing_integration_owners: { 0: DISCORD.guild }, ...(rest["data"] ? { data: { ...(rest["data"] as Json), guild_id: undefined } } : {}),
  } as unknown as T;
}
