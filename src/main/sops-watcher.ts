/**
 * Hot reload: chokidar on SOPS_DIR; a burst of changes (an editor's save, a git checkout) is
 * debounced into one reload. Reloads never overlap: a change during one reloads once more after.
 * Each reload is told which SOP folders changed, so it can read those alone; a change it can't
 * place in a folder (SOPS_DIR itself appearing or going) asks for everything.
 */
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
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

/** The names of the SOP folders that changed since the last reload, or "all". */
export type SopChanges = ReadonlySet<string> | "all";

export async function watchSops(opts: { sopsDir: string; debounceMs?: number; reload: (changed: SopChanges) => Promise<void>; log: Logger }): Promise<SopsWatcher> {
  const debounceMs = opts.debounceMs ?? 200;
  const root = resolve(opts.sopsDir);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let pending: Set<string> | "all" = new Set();

  const note = (path: string): void => {
    if (pending === "all") return;
    const inside = relative(root, path);
    const folder = inside.split(sep)[0] ?? "";
    if (folder === "" || folder === ".." || isAbsolute(inside)) pending = "all";
    else pending.add(folder);
  };

  const reload = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    const changed = pending;
    pending = new Set();
    running = opts.reload(changed)
      .catch((err: unknown) => {
        opts.log.error({ err }, `reloading SOPs failed: ${String(err)}`);
        // What that reload should have read is not known to be read: the next one reads everything.
        pending = "all";
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          reload();
        }
      });
  };

  const watcher = watchPath(root, { ignore: noise });
  watcher.on("all", (_event: string, path: string) => {
    note(path);
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
