/**
 * CARE rules over the real repository and database, with the policies the FHIR API builds for
 * tokens (SmartPolicy for scopes × role, narrowed by CarePolicy). The seed's scenario: Tony sees
 * GP Jack at centre A, a radiographer at centre B and Jack again at centre C; each sees Tony's
 * whole history; a provider Tony never booked with sees nothing, through any door.
 */
import type { Appointment, Bundle, Condition, Consent, Observation, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db.ts';
import { SmartPolicy } from '../access/smart-policy.ts';
import type { Role } from '../accounts/roles.ts';
import { systemContext, type Caller } from '../context.ts';
import { loadDefinitions } from '../fhir/definitions.ts';
import { OperationOutcomeError } from '../fhir/outcomes.ts';
import { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { FhirRouter } from '../fhir/router.ts';
import { AuditTrail } from './audit.ts';
import { CarePolicy } from './policy.ts';
import { VIRTUAL_SERVICE_URL } from '../scheduling/codes.ts';

let tdb: TestDatabase;
let platform: FhirRepository;
let audit: AuditTrail;
const ids: Record<string, string> = {};

function repoFor(role: Role, fhirUser: string, scopes = ['user/*.cruds']): FhirRepository {
  const caller: Caller = { subject: fhirUser, fhirUser, role, scopes };
  const patient = role === 'patient' ? fhirUser.split('/')[1] : undefined;
  const access = new CarePolicy(new SmartPolicy({ scopes, role, fhirUser, patient }), caller);
  return new FhirRepository({ requestId: 'test', caller, access, audit }, tdb.db, { referentialIntegrity: true });
}

const jack = () => repoFor('gp', `Practitioner/${ids.jack}`);
const radiographer = () => repoFor('radiographer', `Practitioner/${ids.rad}`);
const stranger = () => repoFor('gp', `Practitioner/${ids.nobody}`);
const tony = () => repoFor('patient', `Patient/${ids.tony}`);

async function create<T extends Resource>(r: T, repo = platform): Promise<string> {
  return (await repo.create(r)).stored.id;
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err.status;
    throw err;
  }
}

async function searchIds(repo: FhirRepository, type: string, query: Record<string, string>): Promise<string[]> {
  const result = await repo.search(parseSearch(type, query));
  return [...result.matches, ...result.included].map((m) => `${m.type}/${m.id}`);
}

function appointment(patientId: string, roleId: string, practitionerId: string, day: number, status: Appointment['status'] = 'booked'): Appointment {
  const start = new Date(Date.UTC(2031, 0, day, 0, 0));
  return {
    resourceType: 'Appointment',
    status,
    start: start.toISOString(),
    end: new Date(start.getTime() + 30 * 60_000).toISOString(),
    participant: [
      { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
      { actor: { reference: `PractitionerRole/${roleId}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/${practitionerId}` }, status: 'accepted' },
    ],
  };
}

beforeAll(async () => {
  loadDefinitions();
  tdb = await createTestDatabase();
  platform = new FhirRepository(systemContext(), tdb.db, { referentialIntegrity: true });
  audit = new AuditTrail(tdb.db, 50);
  for (const centre of ['A', 'B', 'C']) ids[`org${centre}`] = await create({ resourceType: 'Organization', name: `Centre ${centre}` });
  for (const [key, family] of [['jack', 'Jackson'], ['rad', 'Ray'], ['nobody', 'Nobody'], ['jill', 'Hill']]) {
    ids[key] = await create({ resourceType: 'Practitioner', name: [{ family }] });
  }
  const role = (practitioner: string, org: string, code: string) =>
    create({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${ids[practitioner]}` }, organization: { reference: `Organization/${ids[org]}` }, code: [{ coding: [{ code }] }] });
  ids.jackA = await role('jack', 'orgA', 'gp');
  ids.radB = await role('rad', 'orgB', 'radiographer');
  ids.jackC = await role('jack', 'orgC', 'gp');
  ids.nobodyA = await role('nobody', 'orgA', 'gp');
  ids.jillA = await role('jill', 'orgA', 'gp');
  ids.tony = await create({ resourceType: 'Patient', name: [{ given: ['Tony'], family: 'Stark' }] });
  ids.mia = await create({ resourceType: 'Patient', name: [{ given: ['Mia'], family: 'Wong' }] });
  ids.obs = await create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'blood pressure' }, subject: { reference: `Patient/${ids.tony}` } });
  ids.miaObs = await create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: `Patient/${ids.mia}` } });
  ids.apptA = await create(appointment(ids.tony, ids.jackA, ids.jack, 5));
  ids.apptB = await create(appointment(ids.tony, ids.radB, ids.rad, 6));
  ids.apptC = await create(appointment(ids.tony, ids.jackC, ids.jack, 7));
});

afterAll(async () => {
  await audit?.flush();
  await tdb?.close();
});

describe('who sees Tony\'s history', () => {
  it('records each care relationship as a Consent the patient can list', async () => {
    const consents = await tony().search(parseSearch('Consent', { patient: `Patient/${ids.tony}` }));
    const actors = consents.matches.map((m) => (JSON.parse(m.content as string) as Consent).provision?.actor?.[0]?.reference?.reference).sort();
    // One grant per provider, however many centres: Jack (A and C) and the radiographer.
    expect(actors).toEqual([`Practitioner/${ids.jack}`, `Practitioner/${ids.rad}`].sort());
  });

  it.each([
    ['Jack (booked at A and C)', jack],
    ['the radiographer at B', radiographer],
  ])('%s reads and searches the whole history', async (_name, who) => {
    expect((await who().read('Observation', ids.obs)).id).toBe(ids.obs);
    expect((await who().read('Patient', ids.tony)).id).toBe(ids.tony);
    expect(await searchIds(who(), 'Observation', { subject: `Patient/${ids.tony}` })).toEqual([`Observation/${ids.obs}`]);
  });

  it('a provider Tony never booked with learns nothing, through any door', async () => {
    const s = stranger();
    // Reads answer exactly as for a record that does not exist.
    expect(await status(s.read('Observation', ids.obs))).toBe(404);
    expect(await status(s.read('Observation', 'does-not-exist'))).toBe(404);
    expect(await status(s.read('Patient', ids.tony))).toBe(404);
    expect(await status(s.vread('Observation', ids.obs, '1'))).toBe(404);
    expect(await status(s.history({ type: 'Observation', id: ids.obs, count: 10 }))).toBe(404);
    // Searches, counts, includes, chains and _has leave Tony out silently.
    expect(await searchIds(s, 'Observation', { subject: `Patient/${ids.tony}` })).toEqual([]);
    const total = await s.search(parseSearch('Observation', { _total: 'accurate' }));
    expect(total.total).toBe(0);
    expect(await searchIds(s, 'Observation', { 'subject:Patient.name': 'Tony' })).toEqual([]);
    expect(await searchIds(s, 'Patient', { '_has:Observation:subject:code:text': 'blood' })).toEqual([]);
    expect(await searchIds(s, 'Appointment', { _id: ids.apptA, _include: 'Appointment:patient' })).toEqual([]);
    expect(await searchIds(s, 'Patient', { name: 'Tony', _revinclude: 'Observation:subject' })).toEqual([]);
  });

  it('a transaction cannot read around the rules', async () => {
    const router = new FhirRouter({ fhirBaseUrl: 'http://localhost/fhir', capabilityStatement: () => ({ resourceType: 'CapabilityStatement' }) as Resource });
    const res = await router.handle(
      {
        method: 'POST',
        path: '/',
        query: {},
        headers: {},
        body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Observation/${ids.obs}` } }, { request: { method: 'GET', url: `Observation?subject=Patient/${ids.tony}` } }] },
      },
      stranger(),
    );
    const bundle = res.body as Bundle;
    expect(bundle.entry?.[0]?.response?.status).toBe('404');
    expect((bundle.entry?.[1]?.resource as Bundle).entry ?? []).toEqual([]);
  });
});

describe('adding to and changing the history', () => {
  it('a granted provider adds entries in their own name; others may not change them', async () => {
    const condition: Condition = { resourceType: 'Condition', subject: { reference: `Patient/${ids.tony}` }, code: { text: 'hypertension' }, recorder: { reference: `Practitioner/${ids.jack}` } };
    const written = await jack().create(condition);
    ids.jackCondition = written.stored.id;
    // The radiographer sees it but cannot change or delete it.
    const seen = await radiographer().readResource<Condition>('Condition', ids.jackCondition);
    expect(await status(radiographer().update({ ...seen, note: [{ text: 'edited' }] }))).toBe(403);
    expect(await status(radiographer().delete('Condition', ids.jackCondition))).toBe(403);
    // Jack changes his own entry.
    expect(await status(jack().update({ ...seen, note: [{ text: 'reviewed' }] }))).toBe(200);
    // Nor can anyone change what the platform recorded (no author: not theirs).
    const obs = await jack().readResource<Observation>('Observation', ids.obs);
    expect(await status(jack().update({ ...obs, status: 'amended' }))).toBe(403);
  });

  it('a provider without a grant cannot add to a history (answered as if the patient did not exist)', async () => {
    const condition: Condition = { resourceType: 'Condition', subject: { reference: `Patient/${ids.tony}` }, code: { text: 'flu' } };
    expect(await status(stranger().create(condition))).toBe(404);
    expect(await status(stranger().create({ ...condition, subject: { reference: 'Patient/no-such-patient' } }))).toBe(404);
  });
});

describe('rule changes take effect at once', () => {
  it('a cancelled appointment grants nothing', async () => {
    const appt = await create(appointment(ids.mia, ids.jillA, ids.jill, 9));
    const jill = () => repoFor('gp', `Practitioner/${ids.jill}`);
    expect((await jill().read('Observation', ids.miaObs)).id).toBe(ids.miaObs);
    const current = await platform.readResource<Appointment>('Appointment', appt);
    await platform.update({ ...current, status: 'cancelled' });
    expect(await status(jill().read('Observation', ids.miaObs))).toBe(404);
    // A new booking grants again.
    await create(appointment(ids.mia, ids.jillA, ids.jill, 12));
    expect((await jill().read('Observation', ids.miaObs)).id).toBe(ids.miaObs);
  });

  it('a time-less appointment request (R4 allows one) grants nothing, and cannot keep a cancelled booking\'s grant alive', async () => {
    const nobody = () => repoFor('gp', `Practitioner/${ids.nobody}`);
    const request = (patientId: string): Appointment => ({
      resourceType: 'Appointment',
      status: 'proposed',
      requestedPeriod: [{ start: '2031-02-01T00:00:00Z', end: '2031-02-08T00:00:00Z' }],
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${ids.nobody}` }, status: 'needs-action' },
      ],
    });
    // Stored (no time is held), but the named provider still sees nothing of Mia.
    const req = await create(request(ids.mia));
    expect(await status(nobody().read('Observation', ids.miaObs))).toBe(404);
    // A booking with a time grants; cancelling it revokes even though the request still stands.
    const booked = await create(appointment(ids.mia, ids.nobodyA, ids.nobody, 14));
    expect((await nobody().read('Observation', ids.miaObs)).id).toBe(ids.miaObs);
    await platform.update({ ...(await platform.readResource<Appointment>('Appointment', booked)), status: 'cancelled' });
    expect(await status(nobody().read('Observation', ids.miaObs))).toBe(404);
    // The provider cannot write a request into a stranger's record to open it either.
    expect(await status(nobody().create(request(ids.tony)))).toBe(404);
    expect(await status(nobody().read('Observation', ids.obs))).toBe(404);
    // Choosing a time turns the request into a booking, which grants.
    const current = await platform.readResource<Appointment>('Appointment', req);
    const start = new Date(Date.UTC(2031, 0, 15, 0, 0));
    await platform.update({ ...current, start: start.toISOString(), end: new Date(start.getTime() + 30 * 60_000).toISOString(), participant: [...(current.participant ?? []), { actor: { reference: `PractitionerRole/${ids.nobodyA}` }, status: 'accepted' }] });
    expect((await nobody().read('Observation', ids.miaObs)).id).toBe(ids.miaObs);
  });

  it('a patient revokes a provider\'s access until a new appointment', async () => {
    const consents = await tony().search(parseSearch('Consent', { actor: `Practitioner/${ids.rad}`, status: 'active' }));
    expect(consents.matches).toHaveLength(1);
    const consent = JSON.parse(consents.matches[0].content as string) as Consent;
    await tony().update({ ...consent, status: 'inactive' });
    expect(await status(radiographer().read('Observation', ids.obs))).toBe(404);
    // Jack is unaffected.
    expect((await jack().read('Observation', ids.obs)).id).toBe(ids.obs);
    await create(appointment(ids.tony, ids.radB, ids.rad, 20));
    expect((await radiographer().read('Observation', ids.obs)).id).toBe(ids.obs);
  });

  it('a patient cannot grant themselves into another patient\'s consents', async () => {
    const mias = await platform.search(parseSearch('Consent', { patient: `Patient/${ids.mia}` }));
    const consent = JSON.parse(mias.matches[0].content as string) as Consent;
    expect(await status(tony().update({ ...consent, status: 'inactive' }))).toBe(404);
  });
});

describe('break-glass', () => {
  it('opens the history for 24 hours with a reason, visible to the patient', async () => {
    const router = new FhirRouter({ fhirBaseUrl: 'http://localhost/fhir', capabilityStatement: () => ({ resourceType: 'CapabilityStatement' }) as Resource });
    const call = (body: unknown) => router.handle({ method: 'POST', path: `/Patient/${ids.tony}/$break-glass`, query: {}, headers: {}, body }, stranger());
    expect((await call({ resourceType: 'Parameters', parameter: [] })).status).toBe(400);
    const res = await call({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Unconscious in emergency' }] });
    expect(res.status).toBe(201);
    const consent = JSON.parse(res.body as string) as Consent;
    const hours = (Date.parse(consent.provision?.period?.end as string) - Date.parse(consent.provision?.period?.start as string)) / 3600_000;
    expect(hours).toBe(24);
    expect((await stranger().read('Observation', ids.obs)).id).toBe(ids.obs);
    const seenByTony = await tony().search(parseSearch('Consent', { actor: `Practitioner/${ids.nobody}` }));
    expect(seenByTony.matches.map((m) => m.id)).toEqual([consent.id]);
    // A patient cannot break glass.
    const byPatient = await router.handle({ method: 'POST', path: `/Patient/${ids.tony}/$break-glass`, query: {}, headers: {}, body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'x' }] } }, tony());
    expect(byPatient.status).toBe(403);
  });
});

describe('video room links', () => {
  it('are shown to the appointment\'s participants only', async () => {
    const room = 'https://meet.example/clinic-test-room';
    const appt = appointment(ids.tony, ids.jackA, ids.jack, 25);
    appt.extension = [{ url: VIRTUAL_SERVICE_URL, extension: [{ url: 'addressUrl', valueUrl: room }] }];
    const id = await create(appt);
    const linkSeenBy = async (repo: FhirRepository) => ((await repo.read('Appointment', id)).content as string).includes(room);
    expect(await linkSeenBy(tony())).toBe(true);
    expect(await linkSeenBy(jack())).toBe(true);
    // The radiographer may see Tony's appointments (a grant), but is not in this one.
    expect(await linkSeenBy(radiographer())).toBe(false);
    const found = await radiographer().search(parseSearch('Appointment', { _id: id }));
    expect(found.matches[0].content).not.toContain(room);
  });
});

describe('audit trail', () => {
  it('records reads and writes of patient data, which the patient can list and nobody can change', async () => {
    const marker = await jack().create<Observation>({ resourceType: 'Observation', status: 'final', code: { text: 'audit marker' }, subject: { reference: `Patient/${ids.tony}` } });
    await jack().read('Observation', marker.stored.id);
    await audit.flush();
    const events = await tony().search(parseSearch('AuditEvent', { patient: `Patient/${ids.tony}`, entity: `Observation/${marker.stored.id}`, _count: '50' }));
    const actions = events.matches.map((m) => JSON.parse(m.content as string)).map((e) => `${e.action}:${e.agent[0].who.reference}`).sort();
    expect(actions).toEqual([`C:Practitioner/${ids.jack}`, `R:Practitioner/${ids.jack}`]);
    const one = JSON.parse(events.matches[0].content as string);
    expect(await status(repoFor('admin', 'Practitioner/admin-user').update(one))).toBe(403);
    expect(await status(platform.update(one))).toBe(403);
    expect(await status(platform.delete('AuditEvent', one.id))).toBe(403);
  });
});
