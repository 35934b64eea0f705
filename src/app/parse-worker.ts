/**
 * A parse-pool thread: says it is ready, then answers each batch of SOP sources with their
 * parses, in order. parseSops is pure, so a parse here is the parse the main thread would make.
 * A pool is only started for many SOPs, so the fast tier is always worth loading here.
 */
import { parentPort } from "node:worker_threads";
import { fastMarkdownTree } from "../core/sop/fast-markdown-tree.ts";
import { parseSops } from "../core/sop/parse-sop.ts";
import type { FromPool, ToPool } from "./parse-pool.ts";

const port = parentPort;
if (port === null) throw new Error("parse-worker.ts runs as a worker thread (see parse-pool.ts)");
port.on("message", (batch: ToPool) => {
  const answer: FromPool = { kind: "parsed", results: parseSops(batch.sources, { fastTree: fastMarkdownTree }) };
  port.postMessage(answer);
});
port.postMessage({ kind: "ready" } satisfies FromPool);
