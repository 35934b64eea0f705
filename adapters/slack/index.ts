/** Placeholder until the Slack adapter lands; the composition root imports this class. */
import type { ChatAdapter, ChatAdapterDeps, ChatHealth } from "../../src/chat/chat-adapter.ts";
import type { SlackConfig } from "../../src/main/config.ts";

export class SlackAdapter implements ChatAdapter {
  readonly platform = "slack" as const;
  constructor(readonly deps: ChatAdapterDeps & { config: SlackConfig }) {}
  async start(): Promise<void> {}
  health(): ChatHealth {
    return { connection: "error: not built", notifications: { pending: 0 } };
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}
