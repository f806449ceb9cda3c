/** `npm run reindex`: rebuilds lost or stale index rows, resumes after an interruption. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../src/context.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { parseSearch } from '../src/fhir/search/parse.ts';
import { reindex } from '../src/fhir/search/reindex.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

let database: TestDatabase;
let repo: FhirRepository;

beforeAll(async () => {
  database = await createTestDatabase('postgres');
  repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: false });
  for (let i = 0; i < 25; i++) {
    await repo.create({ resourceType: 'Patient', name: [{ family: `Reindex${i}` }], gender: i % 2 ? 'male' : 'female' } as any);
  }
  await repo.create({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } } as any);
});
afterAll(async () => {
  await database?.close();
});

async function count(query: Record<string, string>, type = 'Patient'): Promise<number> {
  return (await repo.search({ ...parseSearch(type, { ...query, _summary: 'count' }) })).total as number;
}

/** Simulates indexes that are out of date: all index rows and compartments gone. */
async function wipeIndexes(): Promise<void> {
  for (const t of ['idx_string', 'idx_token', 'idx_reference', 'idx_date', 'idx_number', 'idx_quantity', 'idx_uri', 'idx_composite']) {
    await database.db.query(`DELETE FROM ${t}`);
  }
  await database.db.query(`UPDATE resource SET compartments = '{}'`);
}

describe('reindex', () => {
  it('rebuilds every index row', async () => {
    expect(await count({ family: 'reindex' })).toBe(25);
    await wipeIndexes();
    expect(await count({ family: 'reindex' })).toBe(0);
    const result = await reindex(database.db, { batchSize: 7 });
    expect(result).toMatchObject({ done: 26, total: 26, finished: true });
    expect(await count({ family: 'reindex' })).toBe(25);
    expect(await count({ gender: 'male' })).toBe(12);
    expect(await count({ subject: 'Patient/p1' }, 'Observation')).toBe(1);
    const comp = await database.db.query<{ compartments: string[] }>(`SELECT compartments FROM resource WHERE type = 'Observation'`);
    expect(comp.rows[0].compartments).toEqual(['Patient/p1']);
  });

  it('resumes an interrupted run where it stopped', async () => {
    await wipeIndexes();
    let batches = 0;
    await expect(
      reindex(database.db, {
        run: 'resume',
        batchSize: 5,
        onProgress: (p) => {
          if (p.done > 0 && ++batches === 2) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    const seen: number[] = [];
    const result = await reindex(database.db, { run: 'resume', batchSize: 5, onProgress: (p) => seen.push(p.done) });
    expect(result.resumed).toBe(true);
    expect(seen[0]).toBe(10); // two batches were already done
    expect(result.done).toBe(26);
    expect(await count({ family: 'reindex' })).toBe(25);
  });

  it('runs as `npm run reindex` with a progress report', async () => {
    const server = path.resolve(import.meta.dirname, '..');
    const { stderr } = await promisify(execFile)(process.execPath, ['src/cli/reindex.ts', '--restart'], {
      cwd: server,
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
    });
    expect(stderr).toContain('100.0%');
    expect(stderr).toContain('reindexed 26 resources');
  });
});
