import { describe, expect, it } from "vitest";
import { resolveWatchGlob } from "../../src/main/triggers/file-watch.ts";
import { nearestExisting } from "../../src/main/watch-path.ts";

describe("file_watch paths", () => {
  it("are relative to SOPS_DIR's parent unless absolute", () => {
    expect(resolveWatchGlob("releases/*.tar.gz", "/srv/bot/sops")).toBe("/srv/bot/releases/*.tar.gz");
    expect(resolveWatchGlob("../incoming/*.csv", "/srv/bot/sops")).toBe("/srv/incoming/*.csv");
    expect(resolveWatchGlob("/var/drop/*.zip", "/srv/bot/sops")).toBe("/var/drop/*.zip");
  });

  it("are watched from their nearest existing folder until they exist", () => {
    expect(nearestExisting("/tmp/sop-runner-does-not-exist/a/b")).toBe("/tmp");
    expect(nearestExisting("/")).toBe("/");
  });
});
