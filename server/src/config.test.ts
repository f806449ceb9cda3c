/** Environment parsing: defaults, and a clear error for a value that is not allowed. */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('reads VALIDATION_THREADS: one per core by default, 0 allowed, nonsense refused', () => {
    expect(loadConfig({}).validationThreads).toBe(availableParallelism());
    expect(loadConfig({ VALIDATION_THREADS: '0' }).validationThreads).toBe(0);
    expect(loadConfig({ VALIDATION_THREADS: '3' }).validationThreads).toBe(3);
    expect(() => loadConfig({ VALIDATION_THREADS: 'many' })).toThrow(/VALIDATION_THREADS must be a non-negative integer/);
    expect(() => loadConfig({ VALIDATION_THREADS: '-1' })).toThrow(/VALIDATION_THREADS/);
  });
});
