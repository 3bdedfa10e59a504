import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/global.ts"],
    // Interop tests spawn Python and worker threads; keep the defaults generous but finite.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});
