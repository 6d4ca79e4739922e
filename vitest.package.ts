import { defineConfig } from 'vitest/config';

/**
 * Set for every test run, and inherited by the processes and threads the tests start:
 * arrays from allocFloatEmpty (packages/core/src/dtype.ts) start as NaN instead of whatever
 * the allocator had, so an element read before it is written fails the checks downstream.
 */
export const TEST_ENV = { FLOTILLA_POISON_EMPTY: '1' };

/** The test configuration every package shares (packages/<name>/vitest.config.ts re-export it). */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: TEST_ENV,
  },
});
