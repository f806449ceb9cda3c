/**
 * Batched reads by id: concurrent reads share statements and each still gets its own row (or
 * none), including deleted rows and the same id asked twice. Against PostgreSQL and PGlite.
 */
import type { Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../../test/db.ts';
import { systemContext } from '../../context.ts';
import { loadDefinitions } from '../definitions.ts';
import { ReadBatch } from './read-batch.ts';
import { FhirRepository } from './repository.ts';

describe.each<TestDbKind>(['postgres', 'pglite'])('read batch on %s', (kind) => {
  let database: TestDatabase;
  let repo: FhirRepository;

  beforeAll(async () => {
    loadDefinitions();
    database = await createTestDatabase(kind);
    repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: false });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('answers each of many concurrent reads with its own row, in fewer statements', async () => {
    const created = await repo.createMany(Array.from({ length: 20 }, (_, n): Patient => ({ resourceType: 'Patient', name: [{ family: `Read${n}` }] })));
    const ids = created.map((c) => c.resource.id as string);
    await repo.delete('Patient', ids[3]);
    // The same id under another type must not be mistaken for the Patient.
    await repo.update({ resourceType: 'Organization', id: ids[5], name: 'Same id, other type' });

    const batch = new ReadBatch(database.db);
    const asks: [string, string][] = [
      ...ids.map((id): [string, string] => ['Patient', id]),
      ['Patient', 'no-such-id'],
      ['Patient', ids[7]],
      ['Organization', ids[5]],
      ['Practitioner', ids[0]],
    ];
    const rows = await Promise.all(asks.map(([type, id]) => batch.read(type, id)));

    for (let n = 0; n < ids.length; n++) {
      expect(rows[n]?.id).toBe(ids[n]);
      expect(rows[n]?.type).toBe('Patient');
      if (n === 3) {
        expect(rows[n]?.deleted).toBe(true);
        expect(rows[n]?.version).toBe(2);
      } else {
        expect(JSON.parse(rows[n]?.content as string).name[0].family).toBe(`Read${n}`);
      }
    }
    expect(rows[20]).toBeUndefined();
    expect(rows[21]?.id).toBe(ids[7]);
    expect(JSON.parse(rows[22]?.content as string).name).toBe('Same id, other type');
    expect(rows[23]).toBeUndefined();
    expect(batch.stats.reads).toBe(asks.length);
    expect(batch.stats.statements).toBeLessThan(asks.length);
  });

  it('sees a write committed before the read was asked for', async () => {
    const batch = new ReadBatch(database.db);
    const { resource } = await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Before' }] });
    await repo.update({ ...(resource as Patient), name: [{ family: 'After' }] });
    const row = await batch.read('Patient', resource.id as string);
    expect(row?.version).toBe(2);
    expect(JSON.parse(row?.content as string).name[0].family).toBe('After');
  });
});
