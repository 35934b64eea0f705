import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manifestJsonSchema } from "../../src/core/sop/manifest-schema.ts";

const committedFile = new URL("../../schema/sop.schema.json", import.meta.url);

describe("schema/sop.schema.json", () => {
  it("equals the JSON Schema generated from the zod schema", () => {
    const committed: unknown = JSON.parse(readFileSync(committedFile, "utf8"));
    const fresh: unknown = JSON.parse(JSON.stringify(manifestJsonSchema()));
    expect(committed, "schema/sop.schema.json is stale: run `npm run schema` and commit the result").toEqual(fresh);
  });

  it("lets editors accept the aliases the parser accepts", () => {
    const schema = manifestJsonSchema() as { properties: { sop: { properties: Record<string, { enum?: string[] }> } } };
    expect(schema.properties.sop.properties["priority"]?.enum).toContain("normal");
    expect(schema.properties.sop.properties["execution_mode"]?.enum).toContain("auto");
  });
});
