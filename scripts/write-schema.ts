/**
 * Writes schema/sop.schema.json from the zod schema that validates SOP.toml, so editors
 * (Taplo / Even Better TOML: `#:schema ../schema/sop.schema.json`) check what `sop validate` checks.
 * test/core/schema-file.test.ts fails when the committed file is stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { manifestJsonSchema } from "../src/core/sop/manifest-schema.ts";

const target = new URL("../schema/sop.schema.json", import.meta.url);
mkdirSync(new URL(".", target), { recursive: true });
writeFileSync(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
