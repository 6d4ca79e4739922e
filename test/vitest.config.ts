import { defineConfig } from 'vitest/config';
import { TEST_ENV } from '../vitest.package.js';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // The runs compete for two cores; one file at a time keeps their timing sane.
    fileParallelism: false,
    env: TEST_ENV,
  },
});
