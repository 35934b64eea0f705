/**
 * Before any test file runs (and before each rerun in watch mode): dist/ built from the sources
 * as they are now. The CLI and end-to-end tests spawn `bin/sop.js`, which runs dist/; this keeps
 * them from testing stale output. A build that fails stops the run.
 */
import type { TestProject } from "vitest/node";
import { ensureFreshBuild } from "../scripts/build.ts";

export default function setup(project: TestProject): void {
  ensureFreshBuild();
  project.onTestsRerun(() => {
    ensureFreshBuild();
  });
}
