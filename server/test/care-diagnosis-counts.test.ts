/**
 * `Condition/$diagnosis-counts` over HTTP with real tokens: clinic managers get de-identified
 * counts per diagnosis and month (rare diagnoses folded into one unnamed total, entered-in-error,
 * deleted and out-of-range records left out, a centre filter through the visit); clinicians and
 * patients are refused, and malformed requests get a 400 that says what is wrong.
 */
import type { Appointment, Condition, Encounter, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PATIENTS } from '../src/analytics/diagnoses.ts';
import { clientFor, type Client } from './care-helpers.ts';
import { appointmentFor, buildClinic, freeSlots, repoAs, type Clinic } from './sched-fixtures.ts';
import { startTestServer, type TestServer } from './server.ts';

let server: TestServer;
let clinic: Clinic;
let admin: Client;
let receptionist: Client;
let gp: Client;
let patient: Client;

const SNOMED = 'http://snomed.info/sct';
const condition = (patient: string, code: Condition['code'], recordedDate: string, extra: Partial<Condition> = {}): Condition => ({
  resourceType: 'Condition', subject: { reference: `Patient/${patient}` }, code, recordedDate, ...extra,
});

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  clinic = await buildClinic(server.database.db, 6);
  [admin, receptionist, gp, patient] = await Promise.all([
    clientFor(server, 'admin'), clientFor(server, 'receptionist'), clientFor(server, 'gp'), clientFor(server, 'patient'),
  ]);
  const repo = repoAs(server.database.db);
  const [p0, p1, p2, p3, p4, p5] = clinic.patients;
  // A visit at the clinic's location, with its Encounter: two asthma records belong to it.
  const [slot] = await freeSlots(server.database.db, clinic.gpRole, 1);
  const visit = appointmentFor(slot, p0);
  visit.participant.push({ actor: { reference: `Location/${clinic.location}` }, status: 'accepted' });
  const appointment = (await repo.create(visit)).resource as Appointment;
  const encounter = (await repo.create({
    resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${p0}` },
    appointment: [{ reference: `Appointment/${appointment.id}` }],
  } as Encounter)).resource as Encounter;
  const atVisit = { encounter: { reference: `Encounter/${encounter.id}` } };
  const asthma = { text: 'Asthma' };
  const diabetes = { coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }] };
  const records = [
    condition(p0, asthma, '2026-03-02T10:00:00Z', atVisit),
    condition(p1, { text: '  asthma ' }, '2026-03-20', atVisit),
    condition(p2, asthma, '2026-04-11T09:00:00+10:00'),
    condition(p3, asthma, '2026-04-30T23:00:00Z'),
    condition(p0, asthma, '2026-05-01'), // p0 again: 5 records, 4 patients
    // The same code with and without a display: named by the coding's display, whatever comes first.
    condition(p3, { coding: [{ system: SNOMED, code: '44054006' }], text: 'T2DM' }, '2026-04-07'),
    condition(p1, diabetes, '2026-03-05'),
    condition(p2, diabetes, '2026-03-06'),
    condition(p4, { text: 'Fabry disease' }, '2026-03-09'), // one patient: never named
    condition(p5, { text: 'Gaucher disease' }, '2026-03-09'),
    condition(p5, { text: 'Gaucher disease' }, '2026-04-09'),
    // Left out: entered in error, recorded before "from", and a deleted record.
    condition(p4, asthma, '2026-03-10', { verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] } }),
    condition(p5, asthma, '2026-02-28T23:59:59Z'),
  ];
  for (const c of records) await repo.create(c);
  const deleted = (await repo.create(condition(p5, asthma, '2026-03-15'))).resource;
  await repo.delete('Condition', deleted.id as string);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const RANGE = 'from=2026-03-01&to=2026-06-01';
const part = (p: ParametersParameter, name: string) => p.part?.find((x) => x.name === name);
function diagnoses(body: Parameters): { name: string; code?: string; count?: number; patients?: number; months: Record<string, number> }[] {
  return (body.parameter ?? []).filter((p) => p.name === 'diagnosis').map((d) => ({
    name: part(d, 'code')?.valueCoding?.display ?? (part(d, 'text')?.valueString as string),
    code: part(d, 'code')?.valueCoding?.code,
    count: part(d, 'count')?.valueInteger,
    patients: part(d, 'patients')?.valueInteger,
    months: Object.fromEntries((d.part ?? []).filter((x) => x.name === 'month').map((m) => [part(m, 'period')?.valueString, part(m, 'count')?.valueInteger])),
  }));
}

describe('Condition/$diagnosis-counts', () => {
  it('gives managers counts per diagnosis and month, naming only diagnoses of several patients', async () => {
    for (const manager of [admin, receptionist]) {
      const res = await manager.get(`Condition/$diagnosis-counts?${RANGE}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(diagnoses(res.body)).toEqual([
        { name: 'Asthma', count: 5, patients: 4, months: { '2026-03': 2, '2026-04': 2, '2026-05': 1 } },
        { name: 'Diabetes mellitus type 2', code: '44054006', count: 3, patients: 3, months: { '2026-03': 2, '2026-04': 1 } },
      ]);
      const suppressed = res.body.parameter.find((p: ParametersParameter) => p.name === 'suppressed');
      expect(part(suppressed, 'count')?.valueInteger).toBe(3);
      expect(part(suppressed, 'diagnoses')?.valueInteger).toBe(2);
      expect(res.body.parameter.find((p: ParametersParameter) => p.name === 'minimum-patients').valueInteger).toBe(MIN_PATIENTS);
      // De-identified: no patient, rare diagnosis or record id anywhere in the answer.
      const text = JSON.stringify(res.body);
      expect(text).not.toMatch(/Patient\/|Fabry|Gaucher|Condition\//);
    }
  });

  it('narrows to one centre through the visit (Condition → Encounter → Appointment → Location)', async () => {
    const res = await admin.get(`Condition/$diagnosis-counts?${RANGE}&location=Location/${clinic.location}`);
    expect(res.status).toBe(200);
    // Two asthma records at the visit, from two patients: below the naming threshold.
    expect(diagnoses(res.body)).toEqual([]);
    const suppressed = res.body.parameter.find((p: ParametersParameter) => p.name === 'suppressed');
    expect(part(suppressed, 'count')?.valueInteger).toBe(2);
    const elsewhere = await admin.get(`Condition/$diagnosis-counts?${RANGE}&location=Location/no-such-place`);
    expect(part(elsewhere.body.parameter.find((p: ParametersParameter) => p.name === 'suppressed'), 'count')?.valueInteger).toBe(0);
  });

  it('refuses clinicians and patients (403)', async () => {
    for (const caller of [gp, patient]) {
      const res = await caller.get(`Condition/$diagnosis-counts?${RANGE}`);
      expect(res.status).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body)).toContain('clinic managers');
    }
  });

  it('says what is wrong with a malformed request (400)', async () => {
    const cases: [string, RegExp][] = [
      ['', /"from" must be a date/],
      ['from=2026-03&to=2026-06-01', /"from" must be a date/],
      ['from=2026-03-01&to=tomorrow', /"to" must be a date/],
      ['from=2026-03-01&to=2026-03-01', /"to" must come after "from"/],
      ['from=2026-03-01&from=2026-04-01&to=2026-06-01', /Give "from" once/],
      [`${RANGE}&location=Patient/x/y`, /"location" must be Location\/<id>/],
    ];
    for (const [query, message] of cases) {
      const res = await admin.get(`Condition/$diagnosis-counts?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.issue[0].details?.text ?? res.body.issue[0].diagnostics, query).toMatch(message);
    }
  });
});
