/**
 * Web API failures in words a person can act on. The client is built not to retry, so each
 * failure arrives at once with its code; these turn it into one line for the log and /healthz.
 */

interface SlackErrorShape {
  code?: string;
  message?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; needed?: string };
  original?: { message?: string };
}

const HINTS: Record<string, string> = {
  invalid_auth: "check SLACK_BOT_TOKEN (or SLACK_APP_TOKEN)",
  not_authed: "check SLACK_BOT_TOKEN (or SLACK_APP_TOKEN)",
  token_revoked: "the token was revoked: reinstall the app and update the token",
  account_inactive: "the token was revoked: reinstall the app and update the token",
  not_in_channel: "invite the bot to the channel (/invite @sop-runner)",
  channel_not_found: "check the channel id in SLACK_CHANNEL or [notify] slack, and that the bot is in it",
  not_allowed_token_type: "SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write",
  is_archived: "the channel is archived: unarchive it, or change SLACK_CHANNEL or [notify] slack",
  restricted_action: "the workspace does not let the bot post in this channel",
  invalid_blocks: "Slack refused the message's layout (a bug in sop-runner: please report it with the log)",
  msg_too_long: "Slack refused the message as too long (a bug in sop-runner: please report it)",
  message_not_found: "the message was deleted",
  cant_update_message: "the message can no longer be edited (deleted, or posted by another app)",
};

/** Slack's error code when it gave one (`invalid_auth`, `ratelimited`, …). */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as SlackErrorShape | undefined;
  if (e?.code === "slack_webapi_rate_limited_error") return "ratelimited";
  return e?.data?.error;
}

export function isRateLimited(err: unknown): err is { retryAfter: number } {
  return (err as SlackErrorShape | undefined)?.code === "slack_webapi_rate_limited_error";
}

export function describeSlackError(err: unknown): string {
  const e = (err ?? {}) as SlackErrorShape;
  switch (e.code) {
    case "slack_webapi_rate_limited_error":
      return `rate limited by Slack: retry after ${e.retryAfter ?? "?"} s`;
    case "slack_webapi_platform_error": {
      const code = e.data?.error ?? "unknown_error";
      const hint = code === "missing_scope" ? `add the ${e.data?.needed ?? "missing"} scope to the app and reinstall it` : HINTS[code];
      return hint ? `${code}: ${hint}` : code;
    }
    case "slack_webapi_request_error":
      return `cannot reach Slack: ${e.original?.message ?? e.message ?? "request failed"}`;
    case "slack_webapi_http_error":
      return `Slack answered HTTP ${e.statusCode ?? "?"}`;
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
