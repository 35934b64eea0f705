/**
 * Which `slack-group:S…` a person is in, for the groups a decision could depend on (see
 * named-groups.ts): usergroups.users.list per group, cached a minute so a burst of clicks costs
 * one call (the method is rate-limited to about 20 a minute). A failed lookup is not cached and
 * the person is simply not counted in that group: the engine then refuses, and says so.
 */
import type { webApi } from "@slack/bolt";
import type { Logger } from "../../src/app/logger.ts";
import { CauseLog } from "./cause-log.ts";
import { describeSlackError } from "./slack-errors.ts";

export const GROUP_PREFIX = "slack-group:";
const TTL_MS = 60_000;

interface Cached {
  at: number;
  members: Promise<ReadonlySet<string> | undefined>;
}

export class SlackGroups {
  private readonly cache = new Map<string, Cached>();
  private readonly failures = new Map<string, CauseLog>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = TTL_MS,
  ) {}

  /** The groups of `named` that `userId` belongs to. */
  async of(userId: string, named: readonly string[]): Promise<string[]> {
    const found = await Promise.all(named.map(async (group) => ((await this.members(group))?.has(userId) ? group : undefined)));
    return found.filter((g): g is string => g !== undefined);
  }

  private members(group: string): Promise<ReadonlySet<string> | undefined> {
    const hit = this.cache.get(group);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.members;
    const members = this.lookUp(group);
    this.cache.set(group, { at: this.now(), members });
    return members;
  }

  private async lookUp(group: string): Promise<ReadonlySet<string> | undefined> {
    let failures = this.failures.get(group);
    if (!failures) this.failures.set(group, (failures = new CauseLog(this.log, `cannot read the members of ${group}; nobody counts as in it until it works`)));
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group.slice(GROUP_PREFIX.length) });
      failures.recovered(`members of ${group} readable again`, { group });
      return new Set(res.users ?? []);
    } catch (err) {
      this.cache.delete(group);
      failures.failed(describeSlackError(err), { group });
      return undefined;
    }
  }
}
