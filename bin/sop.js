#!/usr/bin/env node
// The `sop` command runs the TypeScript sources directly through tsx, so a checkout works
// after `npm ci` with nothing built by hand.
import { register } from "tsx/esm/api";

// A reader that goes away (`sop status NAME | head -1`) is no failure of sop's: what is left to
// print goes nowhere, and the command ends as it would have, with its own exit code. It is not
// cut short as a SIGPIPE would cut `yes`: `sop run`, `approve` and `deny` carry a run on
// in-process, and stopping them half-way would leave the run marked as running. pino, which
// writes `sop serve`'s log, treats a broken pipe the same way.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code !== "EPIPE") throw err;
  });
}

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
