/** What every trigger of `sop serve` gets. */
import type { Logger } from "../../app/logger.ts";
import type { SopRunner } from "../../app/sop-runner.ts";

export interface TriggerContext {
  runner: SopRunner;
  log: Logger;
}
