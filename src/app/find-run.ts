/** Which run a command means: by id, or the one run of an SOP that waits (or is active). */
import { OPEN_STATUSES, WAITING_STATUSES, type RunState } from "../core/run/run-state.ts";
import type { RunStore } from "../ports/run-store.ts";
import type { SopCatalog } from "./sop-catalog.ts";
import { SopError } from "./sop-error.ts";

export interface RunRef {
  sop?: string;
  runId?: string;
}

interface Sources {
  store: RunStore;
  catalog: SopCatalog;
}

/** The run a decision is for: by id, or the one run of the SOP that waits for people. */
export async function findWaiting({ store, catalog }: Sources, ref: RunRef): Promise<RunState> {
  if (ref.runId) return runOf(store, ref.runId, ref.sop);
  const sop = ref.sop ?? "";
  const waiting = await store.list({ sop, statuses: WAITING_STATUSES });
  const [first, ...others] = waiting;
  if (first && others.length === 0) return first;
  if (waiting.length > 1) {
    throw new SopError("ambiguous", `${waiting.length} runs of ${sop} are waiting; name one: ${waiting.map((r) => r.id).join(", ")}`, {
      runs: waiting.map((r) => {
        const index = r.checkpoints.findIndex((c) => c.status === "pending");
        return { id: r.id, status: r.status, waiting: r.checkpoints[index]?.id ?? "", ...(index >= 0 ? { waitingIndex: index } : {}) };
      }),
    });
  }
  if (!catalog.get(sop) && (await store.page({ sop, limit: 1 })).runs.length === 0) {
    throw new SopError("unknown_sop", `unknown SOP "${sop}"`);
  }
  throw new SopError("nothing_waiting", `no run of ${sop} is waiting for a decision`);
}

/** A run id, or the one active or queued run of an SOP. */
export async function findActive({ store, catalog }: Sources, target: string | RunRef): Promise<RunState> {
  if (typeof target !== "string" && target.runId !== undefined) return runOf(store, target.runId, target.sop);
  const ref = typeof target === "string" ? target : (target.sop ?? "");
  const byId = await store.get(ref);
  if (byId) return byId.run;
  const runs = await store.list({ sop: ref, statuses: OPEN_STATUSES });
  const [first, ...others] = runs;
  if (first && others.length === 0) return first;
  if (runs.length > 1) {
    throw new SopError("ambiguous", `${runs.length} runs of ${ref} are active; name one: ${runs.map((r) => r.id).join(", ")}`, {
      runs: runs.map((r) => ({ id: r.id, status: r.status })),
    });
  }
  if (!catalog.get(ref)) throw new SopError("unknown_run", `no run or SOP named "${ref}"`);
  throw new SopError("nothing_waiting", `no active run of ${ref}`);
}

/** The run with this id, which must belong to `sop` when one is named. */
async function runOf(store: RunStore, runId: string, sop: string | undefined): Promise<RunState> {
  const stored = await store.get(runId);
  if (!stored || (sop && stored.run.sop !== sop)) throw new SopError("unknown_run", `unknown run ${runId}${sop ? ` of ${sop}` : ""}`);
  return stored.run;
}
