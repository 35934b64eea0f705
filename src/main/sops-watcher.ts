/**
 * Hot reload: chokidar on SOPS_DIR; a burst of changes (an editor's save, a git checkout) is
 * debounced into one reload. Reloads never overlap: a change during one reloads once more after.
 */
import { basename, resolve } from "node:path";
import type { Logger } from "../app/logger.ts";
import { watchPath } from "./watch-path.ts";

export interface SopsWatcher {
  close(): Promise<void>;
}

/** Editors' swap and backup files, dot files and node_modules say nothing about SOPs. */
function noise(path: string): boolean {
  const name = basename(path);
  return name.startsWith(".") || name.endsWith("~") || name.endsWith(".swp") || name === "node_modules" || name === "4913";
}

export async function watchSops(opts: { sopsDir: string; debounceMs?: number; reload: () => Promise<void>; log: Logger }): Promise<SopsWatcher> {
  const debounceMs = opts.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const reload = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = opts.reload()
      .catch((err: unknown) => opts.log.error({ err }, `reloading SOPs failed: ${String(err)}`))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          reload();
        }
      });
  };

  const watcher = watchPath(resolve(opts.sopsDir), { ignore: noise });
  watcher.on("all", () => {
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on("error", (err: unknown) => opts.log.warn({ err }, `watching ${opts.sopsDir}: ${String(err)}`));
  await new Promise<void>((ready) => watcher.once("ready", () => ready()));
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
