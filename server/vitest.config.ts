import { defineConfig } from 'vitest/config';

// CI asks for a JSON summary too (TEST_SUMMARY_JSON=file), from which .ci/run prints the plain
// "N passed, N failed" line.
const summaryFile = process.env.TEST_SUMMARY_JSON;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: two test files at a time, each in its own process.
    pool: 'forks',
    maxWorkers: 2,
    reporters: summaryFile ? ['default', ['json', { outputFile: summaryFile }]] : ['default'],
  },
});
