/**
 * chokidar on a directory that may not exist yet. chokidar 5 ignores a missing path, so this
 * watches its nearest existing ancestor and ignores everything that is neither on the way down
 * to the target nor inside it: the target starts working the moment it is created.
 */
import { existsSync } from "node:fs";
import { dirname, relative, sep } from "node:path";
import { watch, type ChokidarOptions, type FSWatcher } from "chokidar";

export interface WatchPathOptions {
  /** Levels below the target that matter (1 = its entries only); undefined = all. */
  depth?: number;
  /** Further paths inside the target to ignore (dot files, editors' swap files …). */
  ignore?: (path: string) => boolean;
  awaitWriteFinish?: ChokidarOptions["awaitWriteFinish"];
}

export function nearestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

/** Watch `target` (absolute). The watcher's events carry absolute paths. */
export function watchPath(target: string, opts: WatchPathOptions = {}): FSWatcher {
  const root = nearestExisting(target);
  const ignored = (path: string): boolean => {
    if (path === target) return false;
    if (target.startsWith(path + sep) || path === root) return false;
    if (!path.startsWith(target + sep)) return true;
    const levels = relative(target, path).split(sep).length;
    if (opts.depth !== undefined && levels > opts.depth) return true;
    return opts.ignore?.(path) ?? false;
  };
  return watch(root, {
    ignoreInitial: true,
    ignored,
    ...(opts.awaitWriteFinish !== undefined ? { awaitWriteFinish: opts.awaitWriteFinish } : {}),
  });
}
