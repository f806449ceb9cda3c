/**
 * Validation on worker threads gives exactly what validation in place gives: the same errors,
 * for the same resources, in the same order, over real Synthea resources with faults put in.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from './definitions.ts';
import { closeValidationPool, configureValidationThreads, POOL_MIN_BATCH, validateBatch, validationTasksRun } from './validate-pool.ts';
import { validationErrors } from './validate.ts';

const SYNTHEA = path.resolve(import.meta.dirname, '../../../../shared/fixtures/synthea');

/** Resources of one Synthea patient bundle, every seventh one broken in some way. */
function resources(): Resource[] {
  const file = readdirSync(SYNTHEA).filter((f) => f.endsWith('.json') && !/^(hospital|practitioner)/.test(f))[0];
  const bundle = JSON.parse(readFileSync(path.join(SYNTHEA, file), 'utf8')) as Bundle;
  const all = (bundle.entry ?? []).map((e) => e.resource as Resource).slice(0, 300);
  return all.map((r, i) => {
    if (i % 21 === 0) return { ...r, unknownElement: true } as unknown as Resource;
    if (i % 21 === 7) return { ...r, implicitRules: 42 } as unknown as Resource;
    if (i % 21 === 14) return { ...r, meta: { lastUpdated: 'yesterday' } } as Resource;
    return r;
  });
}

afterAll(async () => {
  await closeValidationPool();
});

describe('validateBatch', () => {
  it('finds on the threads the same errors as in place, resource by resource', async () => {
    loadDefinitions();
    const batch = resources();
    expect(batch.length).toBeGreaterThan(POOL_MIN_BATCH);
    const inPlace = batch.map(validationErrors);
    const tasksBefore = validationTasksRun();
    const threaded = await validateBatch(batch, batch.map((r) => JSON.stringify(r)));
    expect(threaded).toEqual(inPlace);
    expect(validationTasksRun() - tasksBefore).toBe(Math.ceil(batch.length / 25)); // it did use the threads
    // The faults were found (so the comparison is not of empty lists only).
    const invalid = inPlace.filter((e) => e.length > 0).length;
    expect(invalid).toBe(Math.ceil(batch.length / 7));
    expect(inPlace.some((e) => e.length === 0)).toBe(true);
  }, 60_000);

  it('validates in place when configured with no threads', async () => {
    const batch = resources();
    const tasksBefore = validationTasksRun();
    configureValidationThreads(0);
    try {
      expect(await validateBatch(batch, batch.map((r) => JSON.stringify(r)))).toEqual(batch.map(validationErrors));
    } finally {
      configureValidationThreads(availableParallelism());
    }
    expect(validationTasksRun()).toBe(tasksBefore);
  });

  it('validates a small batch in place, with the same result', async () => {
    const batch = resources().slice(0, 10);
    const tasksBefore = validationTasksRun();
    expect(await validateBatch(batch, batch.map((r) => JSON.stringify(r)))).toEqual(batch.map(validationErrors));
    expect(validationTasksRun()).toBe(tasksBefore);
  });
});
