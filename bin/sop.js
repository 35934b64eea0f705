#!/usr/bin/env node
// The `sop` command runs the compiled JavaScript in dist/, which `npm ci` builds (the `prepare`
// script) and `npm run build` rebuilds after the sources change.
import { existsSync } from "node:fs";

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

// The build writes BUILD_HASH last, so without it dist/ is missing or half-built: say so rather
// than fail on whichever module happens to be absent.
if (!existsSync(new URL("../dist/BUILD_HASH", import.meta.url))) {
  process.stderr.write(`sop: ${new URL("../dist/", import.meta.url).pathname} is missing or incomplete: run npm run build\n`);
  process.exitCode = 2;
} else {
  const { main } = await import("../dist/src/cli/main.js");
  process.exitCode = await main(process.argv.slice(2));
}
