/** Placeholder until the Discord adapter lands; the composition root imports this class. */
import type { ChatAdapter, ChatAdapterDeps, ChatHealth } from "../../src/chat/chat-adapter.ts";
import type { DiscordConfig } from "../../src/main/config.ts";

export class DiscordAdapter implements ChatAdapter {
  readonly platform = "discord" as const;
  constructor(readonly deps: ChatAdapterDeps & { config: DiscordConfig }) {}
  async start(): Promise<void> {}
  health(): ChatHealth {
    return { connection: "error: not built", notifications: { pending: 0 } };
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}
