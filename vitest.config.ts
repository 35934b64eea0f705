import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Builds dist/ when the sources changed since it was built: tests that spawn bin/sop.js run it.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        // The core is pure (no I/O, no globals, no clock): its files share threads and their
        // imports instead of each paying a forked process's start-up.
        extends: true,
        test: { name: "core", include: ["test/core/**/*.test.ts"], pool: "threads", isolate: false },
      },
      {
        extends: true,
        test: { name: "shell", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, "test/core/**"], pool: "forks" },
      },
    ],
  },
});
