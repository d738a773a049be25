import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Socket tests bind free ports; running files in parallel on a 2-core machine is fine,
    // but keep the pool small so timing-sensitive engine tests are not starved.
    maxWorkers: 2,
  },
});
