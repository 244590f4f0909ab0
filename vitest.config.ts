import { defineConfig } from 'vitest/config';

// Three tiers (see CONVENTIONS.md): unit and command tests run in-process with fakes;
// e2e tests spawn the built CLI against the sandbox edge with the real SDK and keychain.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/loopback-only.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    env: { NO_COLOR: '1', COLUMNS: '100', FORCE_COLOR: '0' },
  },
});
