/**
 * Parses many SOPs on several cores: a few worker threads and this one take batches from one
 * queue until it is empty, so a thread that is slow to start (loading the parser takes a good
 * part of a second) costs nothing, and a thread that fails hands its batch back. Results come
 * back in input order, whoever parsed them.
 */
import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import type { FastTree } from "../core/sop/parse-procedure.ts";
import { parseSop, type ParsedSop, type SopSource } from "../core/sop/parse-sop.ts";

export type ToPool = { sources: SopSource[] };
export type FromPool = { kind: "ready" } | { kind: "parsed"; results: ParsedSop[] };

/** SOPs per batch: small enough to share the tail evenly, big enough that messages cost little. */
const BATCH = 16;

export interface PoolOptions {
  /** Worker threads, at least one; default poolThreads(sources). */
  threads?: number;
  /** Whether this thread takes batches too (default true); false leaves all the work to the workers. */
  useThisThread?: boolean;
  /** How a worker is started; tests start broken ones. */
  spawn?: () => Worker;
  /** The fast tier for this thread's batches (the workers load their own). */
  fastTree?: FastTree | undefined;
}

/** SOPs a worker must have ahead of it to be worth starting: its start costs about this many parses. */
const PER_WORKER = 100;

/** The machine as poolThreads sees it; tests pass their own. */
export interface MachineLoad {
  cores: number;
  /** The 1-minute load average. */
  load: number;
}

/**
 * Worker threads worth starting for `count` SOPs: two cores fewer than the machine has, no more
 * than the idle cores (by the 1-minute load average) less one, and one per PER_WORKER SOPs. This
 * thread needs a core, and V8's own threads (garbage collection, compiling hot code) about a third
 * of another during a cold parse: on 2 idle cores, 1,000 SOPs parsed in 0.92–0.99 s on this
 * thread alone (1.4 s of CPU) and in 1.13–1.24 s with one worker (2.0–2.3 s of CPU), 3,000 in
 * 1.72–1.87 s against 1.90–2.02 s. So a 2-core machine parses on this thread alone. On a busy
 * machine a worker's start and JIT warm-up only take time from this thread.
 */
export function poolThreads(count: number, machine: MachineLoad = { cores: availableParallelism(), load: loadavg()[0] ?? 0 }): number {
  const idle = Math.floor(machine.cores - machine.load);
  return Math.max(0, Math.min(machine.cores - 2, idle - 1, Math.ceil(count / PER_WORKER)));
}

/**
 * The worker's entry beside this file, .ts under tsx and .js once compiled. Under tsx a worker
 * needs tsx registered before it loads the entry; on Node 20 `execArgv: ["--import", "tsx"]`
 * does not apply to a worker's entry, so a two-line boot script registers it and imports it.
 */
function startWorker(): Worker {
  const typescript = import.meta.url.endsWith(".ts");
  const entry = new URL(typescript ? "./parse-worker.ts" : "./parse-worker.js", import.meta.url);
  if (!typescript) return new Worker(entry);
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true });
}

class BatchQueue {
  private next = 0;
  constructor(private readonly sources: readonly SopSource[], readonly results: (ParsedSop | undefined)[], private readonly fastTree: FastTree | undefined) {}

  /** The start and end of the next batch, or undefined when all are taken. */
  take(): [number, number] | undefined {
    if (this.next >= this.sources.length) return undefined;
    const start = this.next;
    this.next = Math.min(this.sources.length, start + BATCH);
    return [start, this.next];
  }

  slice([start, end]: [number, number]): SopSource[] {
    return this.sources.slice(start, end);
  }

  parseHere([start, end]: [number, number]): void {
    this.sources.slice(start, end).forEach((source, k) => (this.results[start + k] = this.parse(source)));
  }

  parse(source: SopSource): ParsedSop {
    return parseSop(source, { fastTree: this.fastTree });
  }

  store([start]: [number, number], results: readonly ParsedSop[]): void {
    results.forEach((result, i) => (this.results[start + i] = result));
  }
}

/**
 * One worker's life: batches from the queue while there are any, then terminate. Resolves when
 * the worker is gone and everything it took is parsed (by this thread if the worker failed).
 */
function drive(queue: BatchQueue, stop: Promise<void>, spawn: () => Worker): Promise<void> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = spawn();
    } catch {
      // No worker (a thread limit, a missing entry): the batches are parsed here instead.
      resolve();
      return;
    }
    let held: [number, number] | undefined;
    let over = false;
    const finish = (): void => {
      if (over) return;
      over = true;
      void worker.terminate().then(() => resolve(), () => resolve());
    };
    const giveNext = (): void => {
      held = queue.take();
      if (held) worker.postMessage({ sources: queue.slice(held) } satisfies ToPool);
      else finish();
    };
    worker.on("message", (message: FromPool) => {
      if (message.kind === "parsed" && held) queue.store(held, message.results);
      giveNext();
    });
    const fail = (): void => {
      // Whatever the worker held is parsed here; the others carry on without it.
      if (held && !over) queue.parseHere(held);
      held = undefined;
      finish();
    };
    worker.on("error", fail);
    worker.on("exit", fail);
    // A worker still starting when the queue runs dry is not waited for.
    void stop.then(() => {
      if (!held) finish();
    });
  });
}

/** Parses every source, in input order, on `threads` workers and (by default) this thread. */
export async function parseInPool(sources: readonly SopSource[], options: PoolOptions = {}): Promise<ParsedSop[]> {
  const queue = new BatchQueue(sources, new Array<ParsedSop | undefined>(sources.length), options.fastTree);
  let emptied!: () => void;
  const empty = new Promise<void>((resolve) => (emptied = resolve));
  const threads = Math.max(1, options.threads ?? poolThreads(sources.length));
  const workers = Array.from({ length: threads }, () => drive(queue, empty, options.spawn ?? startWorker));
  if (options.useThisThread !== false) {
    for (let batch = queue.take(); batch; batch = queue.take()) {
      queue.parseHere(batch);
      // A turn of the event loop between batches, so the workers' answers and asks get through.
      await new Promise((resolve) => setImmediate(resolve));
    }
    emptied();
  }
  await Promise.all(workers);
  // The workers may all have failed before taking anything: what is left is parsed here.
  for (let batch = queue.take(); batch; batch = queue.take()) queue.parseHere(batch);
  return sources.map((source, i) => queue.results[i] ?? queue.parse(source));
}
