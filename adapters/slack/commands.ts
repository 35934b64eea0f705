/**
 * `/approve`, `/deny` and `/sop`. Slack wants an answer within 3 seconds, and a run's approval
 * can take longer than that when the store is busy, so every command is acknowledged at once
 * with nothing and answered afterwards through its response_url: ephemeral or in the channel as
 * the reply says.
 */
import type { App, RespondFn } from "@slack/bolt";
import { ephemeral, message } from "../../src/chat/chat-message.ts";
import { parseDecision, parseSop } from "../../src/chat/command-text.ts";
import type { ListenerContext } from "./listener-context.ts";
import { answer, responseBody } from "./replies.ts";
import { plainText } from "./slack-text.ts";

export const COMMANDS = ["approve", "deny", "sop"] as const;

export function registerCommands(app: App, ctx: ListenerContext): void {
  for (const name of COMMANDS) {
    app.command(`/${name}`, async ({ command, ack, respond }) => {
      await ack();
      await answer(ctx.log, `/${name}`, sendTo(respond), async () => {
        const text = plainText(command.text);
        const parsed = name === "sop" ? parseSop(text) : parseDecision(name, text);
        if (!parsed.ok) return ephemeral(message({ title: parsed.error, tone: "failure", lines: ["`/sop help` lists the commands."] }));
        return ctx.actions.command(parsed.command, ctx.caller(command.user_id, command.channel_id));
      });
    });
  }
}

const sendTo = (respond: RespondFn) => (reply: Parameters<typeof responseBody>[0]) => respond(responseBody(reply));
