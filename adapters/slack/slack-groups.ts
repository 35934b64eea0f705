/**
 * Which `slack-group:S…` a person is in, asked only for the groups the engine names (SOP_ADMINS,
 * the approvers of what is decided): usergroups.users.list per group, cached a minute so a burst of clicks
 * costs one call (the method is rate-limited to about 20 a minute), and one call at a time per
 * group however many clicks wait for it.
 *
 * A failed lookup must not pass for "not in the group": the engine would then refuse, and record
 * a refused attempt that never really happened. So while lookups fail, the members last read are
 * used, and when there are none the request is not decided at all (GroupsUnavailable), and the
 * person is asked to try again. After a 429 the group is not asked again before its Retry-After.
 */
import type { webApi } from "@slack/bolt";
import type { Logger } from "../../src/app/logger.ts";
import { CauseLog } from "./cause-log.ts";
import { describeSlackError, isRateLimited } from "./slack-errors.ts";

export const GROUP_PREFIX = "slack-group:";
const TTL_MS = 60_000;

/** What the person is told instead of a decision; nothing reached the engine. */
export class GroupsUnavailable extends Error {
  override name = "GroupsUnavailable";
  constructor(cause: string) {
    super(`cannot check your Slack groups right now (${cause}); try again in a moment`);
  }
}

interface Members {
  at: number;
  users: ReadonlySet<string>;
}

export class SlackGroups {
  private readonly known = new Map<string, Members>();
  private readonly asking = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly quietUntil = new Map<string, number>();
  private readonly failures = new Map<string, CauseLog>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = TTL_MS,
  ) {}

  /** The groups of `named` that `userId` belongs to; throws GroupsUnavailable when one cannot be told. */
  async of(userId: string, named: readonly string[]): Promise<string[]> {
    const found = await Promise.all(named.map(async (group) => ((await this.has(userId, group)) ? group : undefined)));
    return found.filter((g): g is string => g !== undefined);
  }

  /** Whether `userId` is in `group`; false for a name that is no Slack user group. Throws GroupsUnavailable when it cannot be told. */
  async has(userId: string, group: string): Promise<boolean> {
    return group.startsWith(GROUP_PREFIX) && (await this.members(group)).has(userId);
  }

  private async members(group: string): Promise<ReadonlySet<string>> {
    const known = this.known.get(group);
    if (known && this.now() - known.at < this.ttlMs) return known.users;
    try {
      return await this.lookUp(group);
    } catch (err) {
      if (known) return known.users;
      throw new GroupsUnavailable(describeSlackError(err));
    }
  }

  private lookUp(group: string): Promise<ReadonlySet<string>> {
    let asking = this.asking.get(group);
    if (!asking) {
      asking = this.ask(group).finally(() => this.asking.delete(group));
      this.asking.set(group, asking);
    }
    return asking;
  }

  private async ask(group: string): Promise<ReadonlySet<string>> {
    let failures = this.failures.get(group);
    if (!failures) this.failures.set(group, (failures = new CauseLog(this.log, `cannot read the members of ${group} (the members last read count meanwhile; without them, people are asked to try again)`)));
    if (this.now() < (this.quietUntil.get(group) ?? 0)) throw new Error(failures.current ?? "rate limited by Slack");
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group.slice(GROUP_PREFIX.length) });
      const users = new Set(res.users ?? []);
      this.known.set(group, { at: this.now(), users });
      failures.recovered(`members of ${group} readable again`, { group });
      return users;
    } catch (err) {
      if (isRateLimited(err)) this.quietUntil.set(group, this.now() + err.retryAfter * 1000);
      failures.failed(describeSlackError(err), { group });
      throw err;
    }
  }
}
