/** What every Slack listener gets: the chat actions, the runner, a logger and who is acting. */
import type { Logger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { ChatActions, ChatCaller } from "../../src/chat/chat-actions.ts";

export interface ListenerContext {
  runner: SopRunner;
  actions: ChatActions;
  log: Logger;
  /**
   * `slack:<user>` acting from `slack:<channel>`; their user groups are looked up when the engine
   * asks (a lookup that fails throws GroupsUnavailable out of the action).
   */
  caller(userId: string, channelId: string | undefined): ChatCaller;
}
