/** What every Slack listener gets: the chat actions, the runner, a logger and who is acting. */
import type { Logger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { ChatActions, ChatCaller } from "../../src/chat/chat-actions.ts";
import type { GroupScope } from "./relevant-groups.ts";

export interface ListenerContext {
  runner: SopRunner;
  actions: ChatActions;
  log: Logger;
  /**
   * `slack:<user>` acting from `slack:<channel>`, with the user groups this request could depend
   * on; throws GroupsUnavailable when they cannot be told.
   */
  caller(userId: string, channelId: string | undefined, scope: GroupScope): Promise<ChatCaller>;
}
