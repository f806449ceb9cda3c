/**
 * Roles that are not treating providers, over HTTP with real tokens (the role-policy table
 * narrowed by CARE): receptionists (demographics and scheduling, no clinical notes), admins
 * (demographics including soft delete with history kept, every AuditEvent, no clinical notes),
 * pharmacists (medication records, no other clinical entries); nurses follow the providers' rule.
 */
import type { Bundle, Patient, Resource, Slot } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { createResource, createUser, type TestUser } from './auth-helpers.ts';
import { book, clientFor, clinical, refsIn, writeAs, type Client } from './care-helpers.ts';
import { appointmentFor, buildClinic, type Clinic } from './sched-fixtures.ts';

let server: TestServer;
let clinic: Clinic;
let patient: TestUser;
let receptionist: Client;
let admin: Client;
let pharmacist: Client;
let nurse: Client;
let gp: Client;
/** The patient's records by type ("Type/id"), written by another practitioner. */
const records: Record<string, string> = {};
const ids: Record<string, string> = {};
const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const CLINICAL_NOTES = ['Observation', 'Condition', 'DocumentReference', 'Encounter', 'Procedure', 'AllergyIntolerance'];

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  clinic = await buildClinic(server.database.db, 1);
  patient = await createUser(server, 'patient', { name: 'Pat Roles' });
  [receptionist, admin, pharmacist, nurse, gp] = await Promise.all([
    clientFor(server, 'receptionist'), clientFor(server, 'admin'), clientFor(server, 'pharmacist'), clientFor(server, 'nurse'), clientFor(server, 'gp'),
  ]);
  const author = `Practitioner/${clinic.gp}`;
  for (const type of [...CLINICAL_NOTES, 'MedicationRequest', 'MedicationDispense']) {
    records[type] = ref(await writeAs(server, author, clinical(type, patient.fhirUser, `${type} of Pat`)));
  }
  ids.schedule = ref(await createResource(server, { resourceType: 'Schedule', actor: [{ reference: gp.user.fhirUser }], comment: 'GP hours' }));
  ids.appointment = ref(await book(server, patient.fhirUser, gp.user.fhirUser));
});

afterAll(async () => {
  await server?.close();
});

describe('receptionist: demographics and scheduling, no clinical notes', () => {
  it('reads, searches, registers and updates patients', async () => {
    expect((await receptionist.get(patient.fhirUser)).status).toBe(200);
    expect(refsIn((await receptionist.get(`Patient?_id=${patient.fhirUser.split('/')[1]}`)).body)).toEqual([patient.fhirUser]);
    const created = await receptionist.post('Patient', { resourceType: 'Patient', name: [{ family: 'Walkin' }] });
    expect(created.status).toBe(201);
    const updated = await receptionist.put(`Patient/${created.body.id}`, { ...created.body, telecom: [{ system: 'phone', value: '0400 000 000' }] });
    expect(updated.status).toBe(200);
  });

  it('sees schedules and free slots, and books a patient into one', async () => {
    expect((await receptionist.get(ids.schedule)).status).toBe(200);
    const schedules = await receptionist.get(`Schedule?actor=PractitionerRole/${clinic.gpRole}`);
    expect(schedules.status).toBe(200);
    expect(schedules.body.entry?.length ?? 0).toBeGreaterThan(0);
    const after = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const slots = await receptionist.get(`Slot?schedule.actor=PractitionerRole/${clinic.gpRole}&status=free&start=ge${encodeURIComponent(after)}&_count=1`);
    expect(slots.status).toBe(200);
    const slot = slots.body.entry?.[0]?.resource as Slot;
    expect(slot?.resourceType).toBe('Slot');
    const booked = await receptionist.post('Appointment', appointmentFor(slot, clinic.patients[0]));
    expect(booked.status, JSON.stringify(booked.body?.issue)).toBe(201);
    expect((await receptionist.get(`Appointment/${booked.body.id}`)).status).toBe(200);
    expect(refsIn((await receptionist.get(`Appointment?patient=${patient.fhirUser}`)).body)).toEqual([ids.appointment]);
    // Scheduling resources are theirs to manage.
    const schedule = await receptionist.post('Schedule', { resourceType: 'Schedule', actor: [{ reference: `PractitionerRole/${clinic.gpRole}` }], comment: 'extra clinic' });
    expect(schedule.status).toBe(201);
    const extra = await receptionist.post('Slot', { resourceType: 'Slot', schedule: { reference: `Schedule/${schedule.body.id}` }, status: 'busy-unavailable', start: '2034-01-01T00:00:00Z', end: '2034-01-01T00:30:00Z' });
    expect(extra.status).toBe(201);
  });

  it.each(CLINICAL_NOTES.concat('MedicationRequest'))('no %s: not read, not found by search, not written', async (type) => {
    const read = await receptionist.get(records[type]);
    // Types outside the receptionist's row of the role table are refused outright (403); the
    // rest of the clinical record is hidden like any record they may not see (404).
    expect([403, 404]).toContain(read.status);
    expect(read.body.resourceType).toBe('OperationOutcome');
    const search = await receptionist.get(`${type}?patient=${patient.fhirUser}`);
    if (search.status === 200) expect(refsIn(search.body)).toEqual([]);
    else expect(search.status).toBe(403);
    const [, id] = records[type].split('/');
    const update = await receptionist.put(records[type], { ...clinical(type, patient.fhirUser, 'changed'), id });
    expect([403, 404]).toContain(update.status);
  });
});

describe('admin: demographics and audit, no clinical notes', () => {
  it('updates demographics and soft-deletes a patient with history kept', async () => {
    const doomed = await createUser(server, 'patient', { name: 'Doomed Record' });
    const current = (await admin.get(doomed.fhirUser)).body as Patient;
    const updated = await admin.put(doomed.fhirUser, { ...current, birthDate: '1970-01-01' });
    expect(updated.status).toBe(200);
    const deleted = await admin.del(doomed.fhirUser);
    expect(deleted.status).toBe(200);
    expect((await admin.get(doomed.fhirUser)).status).toBe(410);
    const history = await admin.get(`${doomed.fhirUser}/_history`);
    expect(history.status).toBe(200);
    const methods = (history.body as Bundle).entry!.map((e) => e.request?.method);
    expect(methods.sort()).toEqual(['DELETE', 'POST', 'PUT'].sort());
    const v2 = await admin.get(`${doomed.fhirUser}/_history/2`);
    expect(v2.status).toBe(200);
    expect(v2.body.birthDate).toBe('1970-01-01');
  });

  it.each(CLINICAL_NOTES.concat('MedicationRequest'))('no %s: hidden, not searchable, not written', async (type) => {
    expect((await admin.get(records[type])).status).toBe(404);
    const search = await admin.get(`${type}?patient=${patient.fhirUser}&_total=accurate`);
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    const [, id] = records[type].split('/');
    expect((await admin.put(records[type], { ...clinical(type, patient.fhirUser, 'changed'), id })).status).toBe(404);
    expect((await admin.del(records[type])).status).toBe(404);
    const created = await admin.post(type, clinical(type, patient.fhirUser, 'by admin'));
    expect(created.status).toBe(403);
  });

  it('searches every AuditEvent (of every patient and agent)', async () => {
    // Make some audited traffic by two other users about two patients.
    const other = await createUser(server, 'patient', { name: 'Other Audited' });
    await book(server, other.fhirUser, gp.user.fhirUser);
    expect((await gp.get(records.Observation)).status).toBe(200);
    expect((await gp.get(other.fhirUser)).status).toBe(200);
    expect((await pharmacist.get(records.MedicationRequest)).status).toBe(200);
    await server.app.care.audit.flush();
    const all = await admin.get('AuditEvent?_count=500&_total=accurate');
    expect(all.status).toBe(200);
    const events = ((all.body as Bundle).entry ?? []).map((e) => e.resource as any);
    expect(all.body.total).toBe(events.length);
    const agents = new Set(events.map((e) => e.agent?.[0]?.who?.reference));
    expect(agents).toContain(gp.user.fhirUser);
    expect(agents).toContain(pharmacist.user.fhirUser);
    const patientsSeen = new Set(events.flatMap((e) => (e.entity ?? []).map((x: any) => x.what?.reference)).filter((r) => r?.startsWith('Patient/')));
    expect(patientsSeen).toContain(patient.fhirUser);
    expect(patientsSeen).toContain(other.fhirUser);
    // ...while a provider may not search them at all.
    expect((await gp.get('AuditEvent')).status).toBe(403);
  });
});

describe('pharmacist: medication records, no other clinical entries', () => {
  it('reads and searches medication requests and dispenses, and records dispenses', async () => {
    for (const type of ['MedicationRequest', 'MedicationDispense']) {
      expect((await pharmacist.get(records[type])).status).toBe(200);
      expect(refsIn((await pharmacist.get(`${type}?patient=${patient.fhirUser}`)).body)).toEqual([records[type]]);
    }
    const dispensed = await pharmacist.post('MedicationDispense', { ...clinical('MedicationDispense', patient.fhirUser, 'amoxicillin'), authorizingPrescription: [{ reference: records.MedicationRequest }] });
    expect(dispensed.status).toBe(201);
    const done = await pharmacist.put(`MedicationDispense/${dispensed.body.id}`, { ...dispensed.body, note: [{ text: 'collected' }] });
    expect(done.status).toBe(200);
    expect((await pharmacist.get(patient.fhirUser)).status).toBe(200);
  });

  it.each(CLINICAL_NOTES)('no %s', async (type) => {
    expect((await pharmacist.get(records[type])).status).toBe(404);
    const search = await pharmacist.get(`${type}?patient=${patient.fhirUser}&_total=accurate`);
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    expect((await pharmacist.post(type, clinical(type, patient.fhirUser, 'by pharmacist'))).status).toBe(403);
  });
});

describe('nurse: the providers\' rule', () => {
  it('sees nothing before an appointment, everything after; changes only own entries', async () => {
    expect((await nurse.get(records.Observation)).status).toBe(404);
    expect(refsIn((await nurse.get(`Observation?patient=${patient.fhirUser}`)).body)).toEqual([]);
    await book(server, patient.fhirUser, nurse.user.fhirUser);
    const seen = await nurse.get(records.Observation);
    expect(seen.status).toBe(200);
    expect((await nurse.put(records.Observation, { ...seen.body, status: 'amended' })).status).toBe(403);
    const own = await nurse.post('Observation', clinical('Observation', patient.fhirUser, 'temperature 37.2'));
    expect(own.status).toBe(201);
    expect((await nurse.put(`Observation/${own.body.id}`, { ...own.body, status: 'amended' })).status).toBe(200);
  });

  it('sees the directory (practitioners\' schedules) like any user', async () => {
    expect((await nurse.get(ids.schedule)).status).toBe(200);
    expect((await gp.get(ids.schedule)).status).toBe(200);
    expect((await pharmacist.get(ids.schedule)).status).toBe(200);
    expect((await admin.get(ids.schedule)).status).toBe(200);
  });
});
