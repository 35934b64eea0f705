/** `bin/sop.js` runs the compiled JavaScript in dist/, and starts with only what a command needs. */
import { execFile } from "node:child_process";
import { copyFile, mkdir } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect, it } from "vitest";
import { HASH_FILE, sourceHash } from "../../scripts/build.ts";
import { SOP_BIN } from "../helpers/cli.ts";
import { EXAMPLES, Workspace } from "../helpers/workspace.ts";

const DIST = new URL("../../dist/", import.meta.url);

let ws: Workspace;

beforeEach(async () => {
  ws = await Workspace.create();
});
afterEach(async () => {
  await ws.remove();
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: ws.root, env: ws.env() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it("is built from the sources as they are, with the files its modules read beside them", () => {
  expect(readFileSync(HASH_FILE, "utf8").trim()).toBe(sourceHash());
  for (const file of ["src/cli/main.js", "src/index.js", "src/index.d.ts", "src/http/web/static/app.js", "src/http/web/static/app.css", "src/drivers/redis/lua/admit.lua"]) {
    expect(existsSync(new URL(file, DIST)), file).toBe(true);
  }
});

it("says to run npm run build, and exits 2, when there is no dist/ beside bin/", async () => {
  await mkdir(join(ws.root, "bin"));
  await copyFile(SOP_BIN, join(ws.root, "bin", "sop.js"));
  const r = await run([join(ws.root, "bin", "sop.js"), "--help"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(`sop: ${join(ws.root, "dist")}/ is missing or incomplete: run npm run build\n`);
  expect(r.stdout).toBe("");
});

it("loads none of the server, queue, log or chat libraries for sop --help and sop validate", async () => {
  // ESM importing a CommonJS package puts it in require.cache; every library named here is CommonJS.
  const heavy = ["fastify", "bullmq", "ioredis", "pino", "pino-pretty", "prom-client", "discord.js", "@slack/bolt"];
  const script = `
    import { createRequire } from "node:module";
    const { main } = await import(${JSON.stringify(new URL("src/cli/main.js", DIST).href)});
    const io = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {}, cwd: process.cwd() };
    const code = await main(process.argv.slice(1), io);
    const loaded = Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean);
    console.log(JSON.stringify({ code, loaded: [...new Set(loaded)] }));`;
  for (const args of [["--help"], ["validate", EXAMPLES]]) {
    const r = await run(["--input-type=module", "-e", script, "--", ...args]);
    expect(r.stderr).toBe("");
    const { code, loaded } = JSON.parse(r.stdout) as { code: number; loaded: string[] };
    expect(code).toBe(0);
    expect(loaded.filter((p) => heavy.includes(p)), args.join(" ")).toEqual([]);
  }
});
