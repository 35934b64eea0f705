#!/usr/bin/env node
// The `sop` command runs the TypeScript sources directly through tsx, so a checkout works
// after `npm ci` with nothing built by hand.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
