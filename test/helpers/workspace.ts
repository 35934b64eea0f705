/** A temporary SOPS_DIR / LOGS_DIR / DATA_DIR with SOPs written inline or copied from sops-example. */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SopRunner } from "../../src/app/sop-runner.ts";
import { openDeployment, type Deployment, type SopRunnerOptions } from "../../src/compose/open-deployment.ts";
import type { AuditRecord } from "../../src/core/audit/audit-record.ts";

export const EXAMPLES = new URL("../../sops-example/", import.meta.url).pathname;

export class Workspace {
  private constructor(readonly root: string) {}

  static async create(): Promise<Workspace> {
    const root = await mkdtemp(join(tmpdir(), "sop-ws-"));
    const ws = new Workspace(root);
    await Promise.all(["sops", "logs", "data", "tmp"].map((d) => mkdir(join(root, d))));
    return ws;
  }

  get sopsDir() { return join(this.root, "sops"); }
  get logsDir() { return join(this.root, "logs"); }
  get dataDir() { return join(this.root, "data"); }
  get tmpDir() { return join(this.root, "tmp"); }

  /** Environment for the runner and its commands: nothing of the developer's own. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: this.root, TMPDIR: this.tmpDir, ...extra };
  }

  async addExample(name: string): Promise<void> {
    await cp(join(EXAMPLES, name), join(this.sopsDir, name), { recursive: true });
  }

  async addSop(name: string, toml: string, md: string): Promise<void> {
    await mkdir(join(this.sopsDir, name), { recursive: true });
    await writeFile(join(this.sopsDir, name, "SOP.toml"), `[sop]\nname = "${name}"\n${toml}`);
    await writeFile(join(this.sopsDir, name, "SOP.md"), md);
  }

  async runner(opts: Partial<SopRunnerOptions> = {}): Promise<SopRunner> {
    return (await this.deployment(opts)).runner;
  }

  /** The runner with what the chat side keeps beside it (the message ledger), as `sop serve` opens it. */
  deployment(opts: Partial<SopRunnerOptions> = {}): Promise<Deployment> {
    return openDeployment({ sopsDir: this.sopsDir, logsDir: this.logsDir, dataDir: this.dataDir, env: this.env(), ...opts });
  }

  async auditFiles(sop: string): Promise<AuditRecord[]> {
    const dir = join(this.logsDir, "sop", sop);
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(join(dir, f), "utf8")) as AuditRecord));
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Steps as Markdown: `steps("**A**\n```sh\ntrue\n```")`. */
export function steps(...items: string[]): string {
  return `# Test\n\n## Steps\n\n${items.map((item, i) => `${i + 1}. ${item.split("\n").join("\n   ")}`).join("\n\n")}\n`;
}
