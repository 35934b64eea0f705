import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SopCache } from "../../src/app/sop-cache.ts";
import { SopCatalog } from "../../src/app/sop-catalog.ts";

const EXAMPLES = new URL("../../sops-example/", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

let root: string;
let sopsDir: string;
let dataDir: string;

/** The examples, plus SOPs from fixtures: one with warnings, one broken in each file. */
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sop-catalog-"));
  sopsDir = join(root, "sops");
  dataDir = join(root, "data");
  await cp(EXAMPLES, sopsDir, { recursive: true });
  const fixture = (path: string) => readFile(join(FIXTURES, path), "utf8");
  await add("warned", `[sop]\nname = "warned"\ndescription = "d"\nflavour = "odd"\n`, await fixture("procedure/zeroclaw.md"));
  await add("broken-toml", await fixture("manifest/malformed.toml"), await fixture("procedure/basic.md"));
  await add("broken-md", `[sop]\nname = "broken-md"\ndescription = "d"\n`, await fixture("procedure/malformed.md"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function add(name: string, toml: string, md: string): Promise<void> {
  await mkdir(join(sopsDir, name), { recursive: true });
  await writeFile(join(sopsDir, name, "SOP.toml"), toml);
  await writeFile(join(sopsDir, name, "SOP.md"), md);
}

const cacheDir = () => join(dataDir, "cache", "sops");
const entries = async () => (await readdir(cacheDir())).filter((n) => n.endsWith(".json")).sort();
const fresh = () => new SopCatalog(sopsDir).reload();
const cached = (options: ConstructorParameters<typeof SopCache>[1] = {}) => new SopCatalog(sopsDir, new SopCache(dataDir, options)).reload();

/** What a catalog serves: its definitions and its located diagnostics. */
function served(catalog: SopCatalog) {
  return { sops: catalog.list(), diagnostics: catalog.diagnostics };
}

describe("the parse cache in DATA_DIR", () => {
  it("gives the same definitions and the same errors and warnings as a fresh parse", async () => {
    const expected = served(await fresh());
    expect(expected.diagnostics.map((d) => d.severity)).toContain("error");
    expect(expected.diagnostics.map((d) => d.severity)).toContain("warning");

    const cold = await cached();
    expect(cold.lastLoad.parsed).toBeGreaterThan(0);
    expect(served(cold)).toStrictEqual(expected);
    expect((await entries()).length).toBe(cold.lastLoad.parsed);

    const warm = await cached();
    expect(warm.lastLoad).toEqual({ folders: cold.lastLoad.folders, parsed: 0 });
    expect(served(warm)).toStrictEqual(expected);
  });

  it("ignores a corrupt or foreign entry, parses again and rewrites it", async () => {
    const expected = served(await cached());
    const names = await entries();
    const [truncated, empty, garbage, foreign, ...rest] = names;
    const text = await readFile(join(cacheDir(), truncated!), "utf8");
    await writeFile(join(cacheDir(), truncated!), text.slice(0, text.length / 2));
    await writeFile(join(cacheDir(), empty!), "");
    await writeFile(join(cacheDir(), garbage!), "\0\0not json");
    // Valid JSON, but another SOP's entry: its key says so.
    await writeFile(join(cacheDir(), foreign!), await readFile(join(cacheDir(), rest[0]!)));

    const again = await cached();
    expect(again.lastLoad.parsed).toBe(4);
    expect(served(again)).toStrictEqual(expected);
    for (const name of [truncated, empty, garbage, foreign]) {
      expect(JSON.parse(await readFile(join(cacheDir(), name!), "utf8"))).toMatchObject({ key: name!.replace(/\.json$/, "") });
    }
  });

  it("parses a changed SOP.md again instead of serving the cached one", async () => {
    await cached();
    const md = join(sopsDir, "hello", "SOP.md");
    await writeFile(md, (await readFile(md, "utf8")).replace("## Steps", "## Steps\n\n1. **Wave first**\n"));
    const after = await cached();
    expect(after.lastLoad.parsed).toBe(1);
    expect(after.get("hello")?.definition.steps[0]?.title).toBe("Wave first");
    expect(served(after)).toStrictEqual(served(await fresh()));
  });

  it("is not used by a parser of another version", async () => {
    const first = await cached();
    const other = await cached({ version: "another parser" });
    expect(other.lastLoad.parsed).toBe(first.lastLoad.parsed);
    // The old version's entries are no longer used by a full load, so they went.
    expect((await entries()).length).toBe(first.lastLoad.parsed);
  });

  it("keeps only the entries the last full load used", async () => {
    const catalog = await cached();
    const count = (await entries()).length;
    for (const text of ["one", "two", "three"]) {
      await writeFile(join(sopsDir, "hello", "SOP.toml"), `[sop]\nname = "hello"\ndescription = "${text}"\n`);
      await catalog.reloadFolders(["hello"]);
    }
    expect((await entries()).length).toBe(count);
    await rm(join(sopsDir, "hello"), { recursive: true });
    await writeFile(join(cacheDir(), ".stray.1.abc.tmp"), "half");
    await catalog.reload();
    expect((await entries()).length).toBe(count - 1);
    expect(await readdir(cacheDir())).not.toContain(".stray.1.abc.tmp");
  });

  it("never holds a parse JSON would change: such an SOP is parsed every time", async () => {
    // JSON would give back 0 for this literal -0.
    await add("minus-zero", `[sop]\nname = "minus-zero"\ndescription = "d"\n`, "# T\n\n## Steps\n\n1. **Only** [if: x == -0]\n");
    await cached();
    const warm = await cached();
    expect(warm.lastLoad.parsed).toBe(1);
    expect(warm.get("minus-zero")?.definition.steps[0]?.condition?.ast).toStrictEqual({ kind: "compare", op: "==", left: { kind: "var", name: "x" }, right: { kind: "literal", value: -0 } });
    expect(served(warm)).toStrictEqual(served(await fresh()));
  });

  it("is only read when read-only", async () => {
    const catalog = await cached({ readOnly: true });
    expect(catalog.lastLoad.parsed).toBeGreaterThan(0);
    expect(existsSync(cacheDir())).toBe(false);
  });
});

describe("reloading the folders a watcher saw change", () => {
  it("parses the changed SOP only, and serves what a full reload would", async () => {
    const catalog = await cached();
    await writeFile(join(sopsDir, "hello", "SOP.toml"), `[sop]\nname = "hello"\ndescription = "changed"\n`);
    await catalog.reloadFolders(["hello"]);
    expect(catalog.lastLoad).toEqual({ folders: 1, parsed: 1 });
    expect(catalog.get("hello")?.definition.description).toBe("changed");
    expect(served(catalog)).toStrictEqual(served(await fresh()));
  });

  it("keeps the last good version of a broken edit, adds a new SOP and drops a removed one", async () => {
    const catalog = await cached();
    const good = catalog.get("hello");
    await writeFile(join(sopsDir, "hello", "SOP.toml"), `[sop]\nname = "hello"\npriority = "urgent"\n`);
    await add("late", `[sop]\nname = "late"\ndescription = "d"\n`, "# T\n\n## Steps\n\n1. **Only**\n");
    await rm(join(sopsDir, "broken-md"), { recursive: true });
    await catalog.reloadFolders(["hello", "late", "broken-md", "not-a-folder"]);

    expect(catalog.get("hello")).toBe(good);
    expect(catalog.get("late")?.definition.steps.map((s) => s.title)).toEqual(["Only"]);
    expect(catalog.diagnostics.some((d) => d.file.includes("broken-md"))).toBe(false);
    // The diagnostics are those of a fresh load; only the kept version differs.
    const full = await fresh();
    expect(catalog.diagnostics).toStrictEqual(full.diagnostics);
    expect(catalog.list().filter((s) => s.definition.name !== "hello")).toStrictEqual(full.list());
  });
});
