/**
 * Fan-out of a batch of outbox events: who hears of each version. The versions are loaded only
 * for event types someone listens to, together, and deletions notify nobody.
 */
import type { Patient, Subscription } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db.ts';
import { systemContext } from '../context.ts';
import { loadDefinitions } from '../fhir/definitions.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import type { ChangeEvent } from './events.ts';
import type { JobServices } from './services.ts';
import { fanOutBatch } from './targets.ts';

let t: TestDatabase;
let repo: FhirRepository;
let svc: JobServices;
beforeAll(async () => {
  loadDefinitions();
  t = await createTestDatabase();
  repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: false });
  // fanOutBatch reads only the database from the job services.
  svc = { db: t.db } as JobServices;
});
afterAll(async () => {
  await t?.close();
});

const eventOf = (type: string, id: string, version: number, method = 'PUT'): ChangeEvent => ({ type, id, version, method, lastUpdated: new Date().toISOString() });

describe('fanOutBatch', () => {
  it('decides each event of a mixed batch against the version it names', async () => {
    const sub = (await repo.create<Subscription>({
      resourceType: 'Subscription', status: 'active', reason: 'watch', criteria: 'Patient?family=Watched',
      channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/hook', payload: 'application/fhir+json' },
    })).resource;
    const watched = (await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Watched' }] })).resource;
    await repo.update<Patient>({ resourceType: 'Patient', id: watched.id, name: [{ family: 'Renamed' }] });
    const other = (await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Other' }] })).resource;
    const gone = (await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Watched' }] })).resource;
    await repo.delete('Patient', gone.id as string);
    const unheard = (await repo.create({ resourceType: 'Basic', code: { text: 'nobody listens to Basic' } })).resource;

    const events = [
      eventOf('Patient', watched.id as string, 1, 'POST'),
      eventOf('Patient', watched.id as string, 2),
      eventOf('Patient', other.id as string, 1, 'POST'),
      eventOf('Patient', gone.id as string, 2, 'DELETE'),
      eventOf('Basic', unheard.id as string, 1, 'POST'),
    ];
    const fanned = await fanOutBatch(svc, events);
    expect(fanned.map((f) => f.targets)).toEqual([[{ kind: 'subscription', name: sub.id }], [], [], [], []]);
    // Versions of a listened-to type are loaded (and carried on for delivery jobs), each the one the event names.
    expect((fanned[0].resource as Patient).name?.[0].family).toBe('Watched');
    expect((fanned[1].resource as Patient).name?.[0].family).toBe('Renamed');
    expect(JSON.parse(fanned[0].content as string).meta.versionId).toBe('1');
    // Deletions and types nobody listens to cost no load.
    expect(fanned[3].resource).toBeUndefined();
    expect(fanned[4]).toEqual({ resource: undefined, targets: [] });
  });

  it('uses content the event already carries instead of loading it', async () => {
    const p = (await repo.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Watched' }] })).resource;
    // The carried content says something else than the store: the carried one is what is decided on.
    const carried = JSON.stringify({ ...p, name: [{ family: 'Carried' }] });
    const [fanned] = await fanOutBatch(svc, [{ ...eventOf('Patient', p.id as string, 1, 'POST'), content: carried }]);
    expect((fanned.resource as Patient).name?.[0].family).toBe('Carried');
  });
});
