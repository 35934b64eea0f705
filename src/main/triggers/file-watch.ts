/**
 * `file_watch` triggers: chokidar on the glob's base directory (which may not exist yet),
 * awaitWriteFinish so a file being copied fires once it is complete, and a short per-file
 * debounce so the burst of events one copy makes fires once.
 */
import { basename, isAbsolute, resolve } from "node:path";
import picomatch from "picomatch";
import type { FileEvent } from "../../core/sop/types.ts";
import { watchPath } from "../watch-path.ts";
import type { TriggerContext } from "./trigger-context.ts";

const CHOKIDAR_EVENT: Record<FileEvent, "add" | "change" | "unlink"> = { create: "add", change: "change", delete: "unlink" };
const DEBOUNCE_MS = 150;

export interface ArmedTrigger {
  close(): Promise<void>;
}

/** Where a `path` glob points: relative to SOPS_DIR's parent unless absolute. */
export function resolveWatchGlob(path: string, sopsDir: string): string {
  return isAbsolute(path) ? path : resolve(sopsDir, "..", path);
}

export async function armFileWatch(
  ctx: TriggerContext, sop: string, trigger: { path: string; event: FileEvent }, sopsDir: string,
): Promise<ArmedTrigger> {
  const glob = resolveWatchGlob(trigger.path, sopsDir);
  const scan = picomatch.scan(glob);
  // A plain path (no glob characters) is one file: watch its folder for that name.
  const base = scan.isGlob ? scan.base : resolve(glob, "..");
  const rest = scan.isGlob ? scan.glob : basename(glob);
  const matches = picomatch(glob);
  const depth = rest.includes("**") ? undefined : rest.split("/").length;
  const wanted = CHOKIDAR_EVENT[trigger.event];
  const timers = new Map<string, NodeJS.Timeout>();

  const watcher = watchPath(base, {
    ...(depth !== undefined ? { depth } : {}),
    // Wait for a file's size to settle before "add" or "change", so a copy in progress is not taken.
    ...(trigger.event === "delete" ? {} : { awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } }),
  });
  watcher.on(wanted, (path: string) => {
    if (!matches(path)) return;
    clearTimeout(timers.get(path));
    timers.set(path, setTimeout(() => {
      timers.delete(path);
      void ctx.runner.fire({
        sop, type: "file_watch", source: path,
        vars: { file_path: path, file_name: basename(path), file_event: trigger.event },
      });
    }, DEBOUNCE_MS));
  });
  watcher.on("error", (err: unknown) => ctx.log.warn({ sop, path: trigger.path, err }, `file_watch of ${sop}: ${String(err)}`));
  await new Promise<void>((resolveReady) => watcher.once("ready", () => resolveReady()));
  ctx.log.debug({ sop, glob, base }, `file_watch of ${sop} armed on ${glob}`);
  return {
    async close() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await watcher.close();
    },
  };
}
