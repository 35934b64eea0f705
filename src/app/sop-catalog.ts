import type { Diagnostic, LoadedSop } from "../core/sop/types.ts";
import { loadSops } from "./load-sops.ts";

/**
 * The SOPs new runs start from. Reloading replaces a definition for new runs only; running runs
 * keep the definition they pinned. A broken edit keeps the last good version.
 */
export class SopCatalog {
  private sops = new Map<string, LoadedSop>();
  diagnostics: Diagnostic[] = [];

  constructor(readonly sopsDir: string) {}

  async reload(): Promise<this> {
    const { sops, diagnostics } = await loadSops(this.sopsDir);
    const next = new Map(sops.map((s) => [s.definition.name, s]));
    const broken = new Set(diagnostics.filter((d) => d.severity === "error").map((d) => folderOf(d.file)));
    for (const [name, old] of this.sops) if (!next.has(name) && broken.has(name)) next.set(name, old);
    this.sops = next;
    this.diagnostics = diagnostics;
    return this;
  }

  get(name: string): LoadedSop | undefined {
    return this.sops.get(name);
  }

  list(): LoadedSop[] {
    return [...this.sops.values()].sort((a, b) => a.definition.name.localeCompare(b.definition.name));
  }
}

function folderOf(file: string): string {
  const parts = file.split("/").filter(Boolean);
  const last = parts.at(-1) ?? "";
  return last.startsWith("SOP.") ? (parts.at(-2) ?? "") : last;
}
