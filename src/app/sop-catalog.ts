import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { ParsedSop } from "../core/sop/parse-sop.ts";
import type { Diagnostic, LoadedSop } from "../core/sop/types.ts";
import { listSopFolders, loadSopFolders, type FolderLoad, type ParseCache } from "./load-sops.ts";
import { parseKey, type SopCache } from "./sop-cache.ts";

/** What the last load did: how many folders it read, and how many of them it had to parse. */
export interface LoadStats {
  folders: number;
  parsed: number;
}

/**
 * The SOPs new runs start from. Reloading replaces a definition for new runs only; running runs
 * keep the definition they pinned. A broken edit keeps the last good version.
 *
 * A reload parses only what changed: a folder whose two files are what they were keeps its
 * parse, and with a `SopCache` a start parses only what no earlier process parsed. A reload of
 * named folders (what a file watcher saw change) reads those folders and no others.
 */
export class SopCatalog {
  private sops = new Map<string, LoadedSop>();
  /** Each folder's last load, its diagnostics and its parse; loaded in name order. */
  private folders = new Map<string, FolderLoad>();
  private listing: Diagnostic | undefined;
  diagnostics: Diagnostic[] = [];
  lastLoad: LoadStats = { folders: 0, parsed: 0 };

  constructor(readonly sopsDir: string, private readonly cache?: SopCache) {}

  async reload(): Promise<this> {
    const listed = await listSopFolders(this.sopsDir);
    const names = Array.isArray(listed) ? listed : [];
    const loads = await loadSopFolders(this.sopsDir, names, { cache: this.parses() });
    this.listing = Array.isArray(listed) ? undefined : listed;
    this.folders = new Map(loads.map((l) => [l.folder, l]));
    this.diagnostics = this.collectDiagnostics();
    const next = new Map(loads.flatMap((l) => (l.sop ? [[l.sop.definition.name, l.sop] as const] : [])));
    const broken = new Set(this.diagnostics.filter((d) => d.severity === "error").map((d) => folderOf(d.file)));
    for (const [name, old] of this.sops) if (!next.has(name) && broken.has(name)) next.set(name, old);
    this.sops = next;
    this.lastLoad = { folders: loads.length, parsed: loads.filter((l) => l.parsed && !l.cached).length };
    // Entries no SOP uses any more (edited, removed, parsed by an older version) go.
    this.cache?.prune(new Set(loads.flatMap((l) => (l.key ? [l.key] : []))));
    return this;
  }

  /**
   * Reloads only the named folders of `sopsDir` (one that is gone is dropped); the result is
   * what a full reload would give when nothing else changed.
   */
  async reloadFolders(names: Iterable<string>): Promise<this> {
    if (this.listing) return this.reload();
    const present: string[] = [];
    for (const name of new Set(names)) {
      if (isSopFolder(this.sopsDir, name)) present.push(name);
      else this.drop(name);
    }
    const loads = await loadSopFolders(this.sopsDir, present.sort(), { cache: this.parses() });
    for (const load of loads) this.replace(load);
    this.diagnostics = this.collectDiagnostics();
    this.lastLoad = { folders: loads.length, parsed: loads.filter((l) => l.parsed && !l.cached).length };
    return this;
  }

  get(name: string): LoadedSop | undefined {
    return this.sops.get(name);
  }

  list(): LoadedSop[] {
    return [...this.sops.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
  }

  /** The parses this catalog holds, then the cache's; fresh parses go to the cache. */
  private parses(): ParseCache {
    const held = new Map<string, ParsedSop>();
    for (const load of this.folders.values()) if (load.key && load.parsed) held.set(load.key, load.parsed);
    const { cache } = this;
    return {
      // Held parses live as long as this process, whose parser never changes: no version needed.
      keyOf: (source) => (cache ? cache.keyOf(source) : parseKey(source, "")),
      get: (key) => held.get(key) ?? cache?.get(key),
      set: (key, parsed) => cache?.set(key, parsed),
    };
  }

  private replace(load: FolderLoad): void {
    const before = this.folders.get(load.folder);
    this.folders.set(load.folder, load);
    if (before?.key && before.key !== load.key) this.forget(before.key);
    if (load.sop) this.sops.set(load.folder, load.sop);
    // A broken edit keeps the last good version, as in a full reload.
    else if (!load.diagnostics.some((d) => d.severity === "error")) this.sops.delete(load.folder);
  }

  private drop(name: string): void {
    const before = this.folders.get(name);
    this.folders.delete(name);
    this.sops.delete(name);
    if (before?.key) this.forget(before.key);
  }

  /** A parse no folder holds any more leaves the cache (unless another folder has the same key). */
  private forget(key: string): void {
    for (const load of this.folders.values()) if (load.key === key) return;
    this.cache?.forget(key);
  }

  private collectDiagnostics(): Diagnostic[] {
    if (this.listing) return [this.listing];
    return [...this.folders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flatMap(([, load]) => load.diagnostics);
  }
}

/** What listSopFolders lists: a directory (not a link to one), its name not hidden. */
function isSopFolder(sopsDir: string, name: string): boolean {
  if (name.startsWith(".") || name.includes("/")) return false;
  try {
    return lstatSync(join(sopsDir, name)).isDirectory();
  } catch {
    return false;
  }
}

function folderOf(file: string): string {
  const parts = file.split("/").filter(Boolean);
  const last = parts.at(-1) ?? "";
  return last.startsWith("SOP.") ? (parts.at(-2) ?? "") : last;
}
