import type { RunStatus } from "../../core/run/run-state.ts";

/**
 * Every Redis key and channel of one deployment, under its prefix. BullMQ's queue keys
 * (`<p>:jobs:*`) live under the same prefix, so `<p>:*` is the whole deployment.
 */
export interface RedisKeys {
  /**
   * Hash: run (RunState JSON), rev, status, sop, order (line score), max (max_concurrent of the
   * pinned definition), dir, def (sha256), and once ended seal and record (the final audit record).
   */
  run(id: string): string;
  /** String `<until>|<owner>`: who drives the run (see lua/claim.lua). */
  claim(id: string): string;
  /** String: a definition's JSON, shared by every run that pinned it (content-addressed). */
  definition(sha256: string): string;
  /** Set: names of the SOPs that have runs. */
  sops: string;
  /** Sorted set per SOP and status: run ids scored by queuedAt (what `list` reads). */
  status(sop: string, status: RunStatus): string;
  /** Sorted set: the SOP's queued runs without a slot, scored so that ZRANGE is line order. */
  line(sop: string): string;
  /** Sorted set: the SOP's sealed runs, scored by their seq in its audit chain. */
  sealed(sop: string): string;
  /** Sorted set: queued runs refused a slot, scored like the line: whom a run that ends nudges. */
  blocked(sop: string): string;
  /** String: the SOP's last acceptance, epoch ms (the cooldown's start). */
  last(sop: string): string;
  /** Hash: SOP name -> audit chain head JSON. */
  chains: string;
  /** Sorted set: runs going on that have a deadline, scored by their earliest one (what a sweep re-arms when overdue). */
  deadlines: string;
  /** Pub/sub channel of run events. */
  events: string;
  /** BullMQ queue name; BullMQ's own prefix option is the deployment prefix. */
  queueName: string;
}

export const DEFAULT_PREFIX = "sop";

export function redisKeys(prefix: string = DEFAULT_PREFIX): RedisKeys {
  if (prefix === "" || /[\s{}*?[\]]/.test(prefix)) {
    throw new RangeError(`Redis key prefix ${JSON.stringify(prefix)} is not usable: it must be non-empty, without spaces, braces or glob characters`);
  }
  const sop = (name: string): string => `${prefix}:sop:${name}`;
  return {
    run: (id) => `${prefix}:run:${id}`,
    claim: (id) => `${prefix}:claim:${id}`,
    definition: (sha256) => `${prefix}:def:${sha256}`,
    sops: `${prefix}:sops`,
    status: (name, status) => `${sop(name)}:status:${status}`,
    line: (name) => `${sop(name)}:line`,
    sealed: (name) => `${sop(name)}:sealed`,
    blocked: (name) => `${sop(name)}:blocked`,
    last: (name) => `${sop(name)}:last`,
    chains: `${prefix}:chains`,
    deadlines: `${prefix}:deadlines`,
    events: `${prefix}:events`,
    queueName: "jobs",
  };
}
