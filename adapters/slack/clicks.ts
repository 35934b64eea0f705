/**
 * Approve / Deny (Done / Failed) buttons. A click decides exactly the run and checkpoint its
 * button names; the engine says whether it counts. The answer goes to the clicker alone: the
 * request message, which the notifier edits to show who decided, is the public record, and
 * repeating it in the channel would only add noise. A refused click leaves the message as it
 * was (the engine records the attempt in the audit).
 *
 * Deny asks for a reason first, in a form (see deny-modal.ts), unless nothing waits any more at
 * that checkpoint or the clicker may not decide it: then the click goes straight to the engine,
 * which says why it is refused and records the attempt.
 */
import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { parseButtonId, type ButtonTarget } from "../../src/chat/button-id.ts";
import type { ChatCaller } from "../../src/chat/chat-actions.ts";
import { ephemeral, message } from "../../src/chat/chat-message.ts";
import { shortId } from "../../src/chat/run-messages.ts";
import { DENY_CALLBACK, denyModal, parseDenyContext, REASON_BLOCK, reasonOf, type DenyForm } from "./deny-modal.ts";
import type { ListenerContext } from "./listener-context.ts";
import { answer, postToResponseUrl, responseBody } from "./replies.ts";
import { describeSlackError } from "./slack-errors.ts";

export const BUTTON_PATTERN = /^sop\|/;

export function registerClicks(app: App, ctx: ListenerContext): void {
  app.action<BlockAction<ButtonAction>>(BUTTON_PATTERN, async ({ ack, action, body, respond, client }) => {
    await ack();
    const target = parseButtonId(action.action_id);
    if (!target) return;
    const channel = body.channel?.id;
    // Everything after the ack, the form included, happens inside answer(): whatever fails,
    // the clicker hears back. The form must open within the 3 seconds its trigger_id lives, so
    // before it only the clicked run is read and only its approvers' groups are looked up.
    await answer(ctx.log, "click", (reply) => respond(responseBody(reply, true)), async () => {
      const caller = ctx.caller(body.user.id, channel);
      const form = target.action === "deny" ? await denyForm(ctx, target, caller) : undefined;
      if (!form) return ctx.actions.click(target, caller);
      const context = { button: form.button, ...(channel ? { channel } : {}), responseUrl: body.response_url };
      try {
        await client.views.open({ trigger_id: body.trigger_id, view: denyModal(form, context) });
        return undefined;
      } catch (err) {
        return ephemeral(message({
          title: `Could not open the form for a reason: ${describeSlackError(err)}`,
          tone: "failure",
          lines: [`Deny by command instead: \`/deny ${form.sop} ${target.runId} REASON\``],
        }));
      }
    });
  });

  app.view(DENY_CALLBACK, async ({ ack, view, body }) => {
    const reason = reasonOf(view);
    if (!reason) {
      await ack({ response_action: "errors", errors: { [REASON_BLOCK]: "Say why: the reason goes into the audit record." } });
      return;
    }
    await ack();
    const context = parseDenyContext(view.private_metadata);
    const target = context && parseButtonId(context.button);
    if (!context || !target) {
      ctx.log.warn({ platform: "slack", metadata: view.private_metadata.slice(0, 200) }, "Slack: a deny form came back without its run; ignored");
      return;
    }
    await answer(ctx.log, "deny", (reply) => postToResponseUrl(context.responseUrl, responseBody(reply, true)),
      async () => ctx.actions.click(target, ctx.caller(body.user.id, context.channel), reason));
  });
}

/** What the form says, when the clicked checkpoint still waits for a decision the clicker may make. */
async function denyForm(ctx: ListenerContext, target: ButtonTarget, caller: ChatCaller): Promise<(DenyForm & { button: string }) | undefined> {
  const waiting = await ctx.actions.reasonWorthAsking(target, caller);
  if (!waiting) return undefined;
  const cp = waiting.checkpoint;
  return { sop: waiting.sop, runShort: shortId(waiting.runId), checkpoint: cp.id, manual: cp.kind === "manual", button: waiting.button };
}
