/**
 * Who is acting, as the engine knows people: `discord:<user id>`, in the groups
 * `discord-role:<role id>` of every role the member has in the guild. Ids only, never display
 * names: a name can be changed by its owner, an id cannot.
 */
import type { APIInteractionGuildMember, GuildMember } from "discord.js";
import type { ChatCaller } from "../../src/chat/chat-actions.ts";

type Member = GuildMember | APIInteractionGuildMember | null | undefined;

export function callerOf(userId: string, member: Member, channelId: string | null): ChatCaller {
  const groups = roleIds(member).map((id) => `discord-role:${id}`);
  return { actor: { id: `discord:${userId}`, ...(groups.length ? { groups } : {}) }, source: `discord:${channelId ?? "dm"}` };
}

/**
 * The member's role ids as Discord sent them. In a guild the client has not cached they are a
 * plain list; a cached member's `roles.cache` drops any role the guild cache does not know yet,
 * so the ids it was built from are read first.
 */
export function roleIds(member: Member): string[] {
  if (!member) return [];
  if (Array.isArray(member.roles)) return member.roles.filter((id): id is string => typeof id === "string");
  const raw = (member as unknown as { _roles?: unknown })._roles;
  if (Array.isArray(raw)) return raw.filter((id): id is string => typeof id === "string");
  // @everyone is every member's role and never sent as one.
  const guildId = (member as GuildMember).guild.id;
  return [...(member as GuildMember).roles.cache.keys()].filter((id) => id !== guildId);
}
