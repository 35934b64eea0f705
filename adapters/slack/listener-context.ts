/** What every Slack listener gets: the chat actions, the runner, a logger and who is acting. */
import type { Logger } from "../../src/app/logger.ts";
import type { SopRunner } from "../../src/app/sop-runner.ts";
import type { ChatActions, ChatCaller } from "../../src/chat/chat-actions.ts";

export interface ListenerContext {
  runner: SopRunner;
  actions: ChatActions;
  log: Logger;
  /** `slack:<user>`, with the user groups a decision could depend on, acting from `slack:<channel>`. */
  caller(userId: string, channelId: string | undefined): Promise<ChatCaller>;
}
