import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Resource } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from '../../test/db.ts';
import { loadDefinitions } from '../fhir/definitions.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { systemContext } from '../context.ts';
import { matchAll, matchBatch, parseCriteria } from './matcher.ts';

let t: TestDatabase;
let repo: FhirRepository;
beforeAll(async () => {
  loadDefinitions();
  t = await createTestDatabase();
  repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: true });
});
afterAll(async () => {
  await t?.close();
});

async function matches(resource: Resource, ...criteria: string[]): Promise<boolean[]> {
  return matchAll(t.db, resource, criteria.map(parseCriteria));
}

describe('criteria matching at change time', () => {
  it('matches the written version with the search engine semantics', async () => {
    const patient = (await repo.create({ resourceType: 'Patient', name: [{ family: 'Jackson', given: ['Jack'] }] })).resource;
    const appt = (await repo.create<Appointment>({
      resourceType: 'Appointment', status: 'booked', start: '2030-01-02T10:00:00Z', end: '2030-01-02T10:30:00Z',
      participant: [{ actor: { reference: `Patient/${patient.id}` }, status: 'accepted' }],
    })).resource as Appointment;
    expect(await matches(appt,
      'Appointment?status=booked',
      'Appointment?status=cancelled',
      `Appointment?patient=Patient/${patient.id}`,
      'Appointment?date=ge2030-01-01&date=le2030-01-03',
      'Appointment?date=lt2029-01-01',
      'Appointment?patient.name=jack',
      'Appointment?patient.name=mary',
      'Patient?name=jack',
      'Appointment',
    )).toEqual([true, false, true, true, false, true, false, false, true]);

    // Later versions do not change the answer for the earlier one, and vice versa.
    const cancelled = (await repo.update({ ...appt, status: 'cancelled' })).resource;
    expect(await matches(appt, 'Appointment?status=booked')).toEqual([true]);
    expect(await matches(cancelled, 'Appointment?status=booked', 'Appointment?status=cancelled')).toEqual([false, true]);
  });

  it('answers a whole batch of versions in one query, as one query per version would', async () => {
    const ann = (await repo.create({ resourceType: 'Patient', name: [{ family: 'Batch', given: ['Ann'] }] })).resource;
    const bob = (await repo.create({ resourceType: 'Patient', name: [{ family: 'Batch', given: ['Bob'] }] })).resource;
    const appts: Resource[] = [];
    for (const [n, [who, status]] of ([[ann, 'booked'], [bob, 'booked'], [ann, 'cancelled'], [bob, 'arrived']] as const).entries()) {
      appts.push((await repo.create<Appointment>({
        resourceType: 'Appointment', status, start: `2030-02-0${n + 1}T10:00:00Z`, end: `2030-02-0${n + 1}T10:30:00Z`,
        participant: [{ actor: { reference: `Patient/${who.id}` }, status: 'accepted' }],
      })).resource);
    }
    const batch = [...appts, ann, bob];
    const criteria = [
      'Appointment?status=booked', `Appointment?patient=Patient/${ann.id}`, 'Appointment?status=booked,arrived&date=ge2030-02-02',
      'Appointment?patient.name=bob', 'Patient?given=ann', 'Patient?family=batch', 'Appointment?status:not=booked',
    ];
    const searches = criteria.map(parseCriteria);
    const sets = await matchBatch(t.db, batch, searches);
    for (const r of batch) {
      const one = await matchAll(t.db, r, searches);
      expect(sets.map((set) => set.has(`${r.resourceType}/${r.id}`)), `${r.resourceType}/${r.id}`).toEqual(one.map((m, k) => m && searches[k].resourceType === r.resourceType));
    }
    expect(sets[0].size).toBe(2);
    expect([...sets[5]].sort()).toEqual([`Patient/${ann.id}`, `Patient/${bob.id}`].sort());
    await expect(matchBatch(t.db, [ann, ann], searches)).rejects.toThrow(/one version per resource/);
  });

  it('refuses malformed criteria', () => {
    expect(() => parseCriteria('Appointment?date=notadate')).toThrow();
    expect(() => parseCriteria('NoSuchType?x=1')).toThrow();
  });
});
