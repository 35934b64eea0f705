/**
 * A throw-away SOPS_DIR / LOGS_DIR / DATA_DIR per benchmark. Each runner gets its own
 * workspace, so no DATA_DIR is ever locked by two runners at once.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SopRunner } from "../src/app/sop-runner.ts";
import { openDeployment, type Deployment, type SopRunnerOptions } from "../src/compose/open-deployment.ts";

export class TempWorkspace {
  private constructor(readonly root: string) {}

  static async create(label: string): Promise<TempWorkspace> {
    const root = await mkdtemp(join(tmpdir(), `sop-bench-${label}-`));
    const ws = new TempWorkspace(root);
    await Promise.all([ws.sopsDir, ws.logsDir, ws.dataDir, ws.tmpDir].map((d) => mkdir(d)));
    return ws;
  }

  get sopsDir(): string { return join(this.root, "sops"); }
  get logsDir(): string { return join(this.root, "logs"); }
  get dataDir(): string { return join(this.root, "data"); }
  get tmpDir(): string { return join(this.root, "tmp"); }

  /** Only what commands need: nothing of the developer's environment leaks into a run. */
  env(): Record<string, string> {
    return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: this.root, TMPDIR: this.tmpDir };
  }

  async addSop(name: string, toml: string, md: string): Promise<void> {
    const dir = join(this.sopsDir, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "SOP.toml"), toml);
    await writeFile(join(dir, "SOP.md"), md);
  }

  async runner(opts: Partial<SopRunnerOptions> = {}): Promise<SopRunner> {
    return (await this.deployment(opts)).runner;
  }

  deployment(opts: Partial<SopRunnerOptions> = {}): Promise<Deployment> {
    return openDeployment({
      sopsDir: this.sopsDir, logsDir: this.logsDir, dataDir: this.dataDir, env: this.env(), owner: "bench", ...opts,
    });
  }

  async auditFileCount(sop: string): Promise<number> {
    const names = await readdir(join(this.logsDir, "sop", sop)).catch(() => []);
    return names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).length;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Runs `fn` with a fresh workspace and removes it afterwards, also when `fn` throws. */
export async function withWorkspace<T>(label: string, fn: (ws: TempWorkspace) => Promise<T>): Promise<T> {
  const ws = await TempWorkspace.create(label);
  try {
    return await fn(ws);
  } finally {
    await ws.remove();
  }
}

/** Runs `fn` with a runner on the workspace and closes it afterwards (dropping the DATA_DIR lock). */
export async function withRunner<T>(ws: TempWorkspace, fn: (runner: SopRunner, deployment: Deployment) => Promise<T>, opts: Partial<SopRunnerOptions> = {}): Promise<T> {
  const deployment = await ws.deployment(opts);
  const { runner } = deployment;
  try {
    if (runner.diagnostics.some((d) => d.severity === "error")) {
      throw new Error(`benchmark SOP is invalid: ${runner.diagnostics.map((d) => d.message).join("; ")}`);
    }
    return await fn(runner, deployment);
  } finally {
    await runner.close();
  }
}
