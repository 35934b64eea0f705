import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadFastTree, loadSops, MAX_SOP_FILE_BYTES } from "../../src/app/load-sops.ts";
import { parseInPool, poolThreads } from "../../src/app/parse-pool.ts";
import { parseSop, type SopSource } from "../../src/core/sop/parse-sop.ts";
import { writeCorpus } from "../../bench/sop-corpus.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const EXAMPLES = new URL("../../sops-example/", import.meta.url).pathname;

/**
 * Every manifest fixture with every procedure fixture, and each manifest alone: good SOPs, broken
 * ones, evil ones. The manifest's name is made its folder's, so the good ones load.
 */
async function fixtureSources(): Promise<SopSource[]> {
  const names = async (dir: string, ext: string) => (await readdir(join(FIXTURES, dir))).filter((n) => n.endsWith(ext)).sort().map((n) => join(FIXTURES, dir, n));
  const tomls = [...(await names("manifest", ".toml")), ...(await names("zeroclaw", ".toml"))];
  const mds = [...(await names("procedure", ".md")), ...(await names("zeroclaw", ".md"))];
  const sources: SopSource[] = [];
  for (const [t, tomlPath] of tomls.entries()) {
    const written = await readFile(tomlPath, "utf8");
    const source = (folder: string, markdown: string | undefined): SopSource => ({
      folder, tomlFile: `sops/${folder}/SOP.toml`, toml: written.replace(/^name = ".*"$/m, `name = "${folder}"`), mdFile: `sops/${folder}/SOP.md`, markdown,
    });
    for (const [m, mdPath] of mds.entries()) sources.push(source(`sop-${t}-${m}`, await readFile(mdPath, "utf8")));
    sources.push(source(`sop-${t}`, undefined));
  }
  return sources;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sop-load-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string | Buffer>): Promise<void> {
  await mkdir(join(dir, name), { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, name, file), content);
}

const GOOD_MD = "# T\n\n## Steps\n\n1. **Say hello**\n   ```sh\n   echo hello\n   ```\n";
const good = (name: string) => `[sop]\nname = "${name}"\ndescription = "d"\n`;

describe("loadSops on files that are not what they should be", () => {
  it("names each with a located error and still loads the good SOPs", async () => {
    await folder("good", { "SOP.toml": good("good"), "SOP.md": GOOD_MD });
    await folder("dir-toml", { "SOP.md": GOOD_MD });
    await mkdir(join(dir, "dir-toml", "SOP.toml"));
    await folder("binary", { "SOP.toml": Buffer.from("a\0b"), "SOP.md": GOOD_MD });
    await folder("latin1", { "SOP.toml": Buffer.from('[sop]\nname = "latin1"\ndescription = "caf\xe9"\n', "latin1"), "SOP.md": GOOD_MD });
    await folder("huge", { "SOP.toml": good("huge"), "SOP.md": "a".repeat(MAX_SOP_FILE_BYTES + 1) });
    await folder("fifo", { "SOP.toml": good("fifo") });
    execFileSync("mkfifo", [join(dir, "fifo", "SOP.md")]);
    await folder("no-md", { "SOP.toml": good("no-md") });
    await folder("Bad_Name", { "SOP.toml": good("Bad_Name"), "SOP.md": GOOD_MD });
    await folder(".hidden", { "SOP.toml": "not toml at all" });

    const { sops, diagnostics } = await loadSops(dir);
    expect(sops.map((s) => s.definition.name)).toEqual(["good"]);
    expect(diagnostics.filter((d) => d.code !== "name-mismatch").map((d) => [d.file.slice(dir.length + 1), d.code, d.line, d.column])).toEqual([
      ["Bad_Name", "bad-folder-name", 1, 1],
      ["binary/SOP.toml", "binary-file", 1, 1],
      ["dir-toml/SOP.toml", "not-a-file", 1, 1],
      ["fifo/SOP.md", "not-a-file", 1, 1],
      ["huge/SOP.md", "file-too-large", 1, 1],
      ["latin1/SOP.toml", "not-utf8", 1, 1],
      ["no-md/SOP.md", "missing-file", 1, 1],
    ]);
  });
});

describe("the fast tier (markdown-it)", () => {
  /** A loader that counts its loads and the trees the tier it loads builds. */
  function countingLoader() {
    const counts = { loads: 0, trees: 0 };
    const load = async () => {
      counts.loads++;
      const fastTree = await loadFastTree();
      return (...args: Parameters<typeof fastTree>) => {
        counts.trees++;
        return fastTree(...args);
      };
    };
    return { counts, load };
  }

  it("is not loaded for a handful of SOPs, which micromark parses alone", async () => {
    const { counts, load } = countingLoader();
    const { sops } = await loadSops(EXAMPLES, { loadFastTree: load });
    expect(sops).toHaveLength(4);
    expect(counts).toEqual({ loads: 0, trees: 0 });
  });

  it("is loaded once for many SOPs, parses them, and the load is what micromark alone gives", async () => {
    const many = await mkdtemp(join(tmpdir(), "sop-load-fast-"));
    try {
      await writeCorpus(many, 30);
      const { counts, load } = countingLoader();
      const fast = await loadSops(many, { loadFastTree: load, poolThreshold: Infinity });
      expect(counts).toEqual({ loads: 1, trees: 30 });
      expect(fast.sops).toHaveLength(30);
      expect(fast).toStrictEqual(await loadSops(many, { fastTierThreshold: Infinity, poolThreshold: Infinity }));
    } finally {
      await rm(many, { recursive: true, force: true });
    }
  });

  it("that cannot be loaded leaves micromark to parse them all, with the same load", async () => {
    const many = await mkdtemp(join(tmpdir(), "sop-load-fast-"));
    try {
      await writeCorpus(many, 10);
      const broken = () => Promise.reject(new Error("Cannot find module dist/src/core/sop/fast-markdown-tree.js"));
      const load = await loadSops(many, { loadFastTree: broken, poolThreshold: Infinity });
      expect(load.sops).toHaveLength(10);
      expect(load).toStrictEqual(await loadSops(many, { fastTierThreshold: Infinity, poolThreshold: Infinity }));
    } finally {
      await rm(many, { recursive: true, force: true });
    }
  });
});

describe("parsing on worker threads", () => {
  it("gives exactly what parsing on this thread gives, in the same order", async () => {
    const sources = await fixtureSources();
    const here = sources.map((s) => parseSop(s));
    expect(here.some((p) => p.diagnostics.some((d) => d.severity === "error"))).toBe(true);
    expect(here.some((p) => p.definition !== undefined)).toBe(true);
    // Only the workers parse, so every result crossed a thread.
    expect(await parseInPool(sources, { threads: 2, useThisThread: false })).toStrictEqual(here);
  });

  it("loads a directory the same whether worker threads help or not", async () => {
    const sops = await mkdtemp(join(tmpdir(), "sop-load-pool-"));
    try {
      for (const s of (await fixtureSources()).slice(0, 80)) {
        await mkdir(join(sops, s.folder));
        await writeFile(join(sops, s.folder, "SOP.toml"), s.toml);
        if (s.markdown !== undefined) await writeFile(join(sops, s.folder, "SOP.md"), s.markdown);
      }
      const inThread = await loadSops(sops, { poolThreshold: Infinity });
      expect(inThread.diagnostics.length).toBeGreaterThan(0);
      expect(await loadSops(sops, { poolThreshold: 0, pool: { threads: 1 } })).toStrictEqual(inThread);
    } finally {
      await rm(sops, { recursive: true, force: true });
    }
  });

  it("leaves a core to this thread and one to V8's own threads, starts none on busy cores, nor one per fewer than 100 SOPs", () => {
    for (const count of [1, 1_000, 10_000]) expect(poolThreads(count, { cores: 2, load: 0 })).toBe(0);
    expect(poolThreads(10_000, { cores: 8, load: 0 })).toBe(6);
    expect(poolThreads(10_000, { cores: 8, load: 3.5 })).toBe(3);
    expect(poolThreads(150, { cores: 8, load: 0 })).toBe(2);
    expect(poolThreads(10_000, { cores: 4, load: 4 })).toBe(0);
    expect(poolThreads(10_000)).toBeLessThanOrEqual(Math.max(0, availableParallelism() - 2));
  });

  it("parses here what a worker that dies or never starts leaves behind", async () => {
    const sources = (await fixtureSources()).slice(0, 40);
    const here = sources.map((s) => parseSop(s));
    const dying = () => new Worker("process.exit(3)", { eval: true });
    expect(await parseInPool(sources, { threads: 2, useThisThread: false, spawn: dying })).toStrictEqual(here);
    const refused = (): Worker => {
      throw new Error("no more threads");
    };
    expect(await parseInPool(sources, { threads: 1, useThisThread: false, spawn: refused })).toStrictEqual(here);
  });
});
