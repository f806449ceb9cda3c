/**
 * Booking rules through the repository write path, as the callers CONTRACT names (patient,
 * receptionist, provider), including the MediSoft error list: booking the same slot twice,
 * providers booking for themselves, invalid dates and periods, overlapping appointments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Slot } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '../src/fhir/outcomes.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { appointmentFor, asPatient, asRole, buildClinic, freeSlots, repoAs, type Clinic } from './sched-fixtures.ts';

let t: TestDatabase;
let c: Clinic;
let slots: Slot[];
beforeAll(async () => {
  t = await createTestDatabase('postgres');
  c = await buildClinic(t.db, 4);
  slots = await freeSlots(t.db, c.gpRole, 40, Date.now() + 86_400_000);
});
afterAll(async () => {
  await t?.close();
});

async function refused(p: Promise<unknown>): Promise<{ status: number; text: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OperationOutcomeError) return { status: err.status, text: err.outcome.issue?.[0]?.details?.text ?? '' };
    throw err;
  }
  throw new Error('expected the write to be refused');
}

const slotStatus = async (id: string) => (await repoAs(t.db).readResource<Slot>('Slot', id)).status;
let next = 0;
const takeSlot = () => slots[next++];

describe('booking a slot', () => {
  it('lets a patient book a free slot for themselves; the slot becomes busy', async () => {
    const slot = takeSlot();
    const { resource } = await repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(slot, c.patients[0]));
    const appt = resource as Appointment;
    expect(appt.status).toBe('booked');
    expect(appt.participant.map((p) => p.actor?.reference)).toEqual(expect.arrayContaining([
      `Patient/${c.patients[0]}`, `PractitionerRole/${c.gpRole}`, `Practitioner/${c.gp}`, `Location/${c.location}`,
    ]));
    expect(await slotStatus(slot.id!)).toBe('busy');
  });

  it('refuses a second booking of the same slot with 409 "Slot unavailable" (MediSoft: multiple appointments in one slot)', async () => {
    const slot = takeSlot();
    await repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(slot, c.patients[0]));
    const r = await refused(repoAs(t.db, asPatient(c.patients[1])).create(appointmentFor(slot, c.patients[1])));
    expect(r.status).toBe(409);
    expect(r.text).toMatch(/Slot unavailable/);
  });

  it('refuses overlapping appointments of one patient (422), even with another provider', async () => {
    const slot = takeSlot();
    await repoAs(t.db, asPatient(c.patients[2])).create(appointmentFor(slot, c.patients[2]));
    const [other] = (await freeSlots(t.db, c.manualRole, 100, Date.now() + 86_400_000)).filter((s) => s.start === slot.start);
    const r = await refused(repoAs(t.db, asPatient(c.patients[2])).create(appointmentFor(other, c.patients[2])));
    expect(r).toMatchObject({ status: 422, text: expect.stringMatching(/already has an appointment at that time/) });
  });

  it('refuses a patient booking for someone else (422) but lets a receptionist book for a patient', async () => {
    const slot = takeSlot();
    const r = await refused(repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(slot, c.patients[1])));
    expect(r).toMatchObject({ status: 422, text: expect.stringMatching(/only for themselves/) });
    const ok = await repoAs(t.db, asRole('receptionist', `Practitioner/${c.receptionist}`)).create(appointmentFor(slot, c.patients[1]));
    expect((ok.resource as Appointment).status).toBe('booked');
  });

  it('refuses a provider booking with themselves (MediSoft) and providers booking at all', async () => {
    const slot = takeSlot();
    const self = await refused(repoAs(t.db, asRole('gp', `Practitioner/${c.gp}`)).create(appointmentFor(slot, c.patients[3])));
    expect(self).toMatchObject({ status: 422, text: expect.stringMatching(/cannot book an appointment with themselves/) });
    const other = await refused(repoAs(t.db, asRole('specialist', `Practitioner/${c.specialist}`)).create(appointmentFor(slot, c.patients[3])));
    expect(other).toMatchObject({ status: 422, text: expect.stringMatching(/Only the patient or a receptionist/) });
  });

  it('refuses a provider\'s own patient record booked with them, whoever books it', async () => {
    const repo = repoAs(t.db);
    const jackAsPatient = (await repo.create({ resourceType: 'Patient', identifier: [{ system: 'urn:clinic:account-email', value: 'jack@example.org' }] })).resource.id!;
    const r = await refused(repoAs(t.db, asPatient(jackAsPatient)).create(appointmentFor(takeSlot(), jackAsPatient)));
    expect(r).toMatchObject({ status: 422, text: expect.stringMatching(/with themselves/) });
  });

  it('refuses invalid dates and periods (MediSoft): malformed → 400, past, misaligned, mismatched or outside hours → 422', async () => {
    const patient = asPatient(c.patients[3]);
    const slot = takeSlot();
    const as = (extra: Partial<Appointment>) => refused(repoAs(t.db, patient).create(appointmentFor(slot, c.patients[3], extra)));
    expect((await as({ start: '2025-13-45T09:00:00+10:00' })).status).toBe(400);
    expect((await as({ start: 'tomorrow' })).status).toBe(400);
    expect((await as({ end: slot.start })).status).toBe(400);
    expect(await as({ start: new Date(Date.parse(slot.start) + 15 * 60_000).toISOString() })).toMatchObject({ status: 422, text: expect.stringMatching(/hour or the half hour|those of its slot/) });
    expect(await as({ slot: undefined })).toMatchObject({ status: 422, text: expect.stringMatching(/must name the Slot/) });
    // A slot in the past (made by the platform, as seeding does).
    const past: Slot = (await repoAs(t.db).create({ ...slot, id: undefined, start: '2024-01-02T09:00:00+11:00', end: '2024-01-02T09:30:00+11:00' } as Slot)).resource as Slot;
    expect(await refused(repoAs(t.db, patient).create(appointmentFor(past, c.patients[3])))).toMatchObject({ status: 422, text: expect.stringMatching(/in the past/) });
    // A slot outside the provider's hours (made by hand at 20:00).
    const at8pm = new Date(Date.parse(slot.start));
    const local = slot.start.slice(0, 11) + '20:00:00' + slot.start.slice(19);
    const late: Slot = (await repoAs(t.db).create({ ...slot, id: undefined, start: local, end: local.replace('T20:00', 'T20:30') } as Slot)).resource as Slot;
    expect(at8pm.getTime()).toBeGreaterThan(0);
    expect(await refused(repoAs(t.db, patient).create(appointmentFor(late, c.patients[3])))).toMatchObject({ status: 422, text: expect.stringMatching(/outside the provider's hours/) });
  });

  it('frees the slot on cancellation, by the patient or the provider', async () => {
    const slot = takeSlot();
    const patient = repoAs(t.db, asPatient(c.patients[0]));
    const { resource } = await patient.create(appointmentFor(slot, c.patients[0]));
    await patient.update({ ...(resource as Appointment), status: 'cancelled' });
    expect(await slotStatus(slot.id!)).toBe('free');
    // Someone else may now book it.
    const again = await repoAs(t.db, asPatient(c.patients[1])).create(appointmentFor(slot, c.patients[1]));
    const provider = repoAs(t.db, asRole('gp', `Practitioner/${c.gp}`));
    await provider.patch('Appointment', again.resource.id!, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
    expect(await slotStatus(slot.id!)).toBe('free');
    // A stranger may not cancel.
    const third = await repoAs(t.db, asPatient(c.patients[2])).create(appointmentFor(slot, c.patients[2]));
    const r = await refused(repoAs(t.db, asPatient(c.patients[0])).update({ ...(third.resource as Appointment), status: 'cancelled' }));
    expect(r.status).toBe(422);
  });

  it('refuses to free a booked slot directly', async () => {
    const slot = takeSlot();
    await repoAs(t.db, asPatient(c.patients[1])).create(appointmentFor(slot, c.patients[1]));
    const current = await repoAs(t.db).readResource<Slot>('Slot', slot.id!);
    const r = await refused(repoAs(t.db, asRole('receptionist', `Practitioner/${c.receptionist}`)).update({ ...current, status: 'free' }));
    expect(r.status).toBe(409);
  });

  it('reschedules atomically: the old slot is freed only when the new one is taken', async () => {
    const [a, b, taken] = [takeSlot(), takeSlot(), takeSlot()];
    const patient = repoAs(t.db, asPatient(c.patients[3]));
    const { resource } = await patient.create(appointmentFor(a, c.patients[3]));
    await repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(taken, c.patients[0]));
    const appt = resource as Appointment;
    const blocked = await refused(patient.update({ ...appt, slot: [{ reference: `Slot/${taken.id}` }], start: taken.start, end: taken.end }));
    expect(blocked.status).toBe(409);
    expect(await slotStatus(a.id!)).toBe('busy');
    await patient.update({ ...appt, slot: [{ reference: `Slot/${b.id}` }], start: b.start, end: b.end });
    expect(await slotStatus(a.id!)).toBe('free');
    expect(await slotStatus(b.id!)).toBe('busy');
  });

  it('runs the same rules inside a transaction Bundle entry', async () => {
    const slot = takeSlot();
    await repoAs(t.db, asPatient(c.patients[2])).create(appointmentFor(slot, c.patients[2]));
    const r = await refused(repoAs(t.db, asPatient(c.patients[1])).withTransaction((tx) => tx.createMany([appointmentFor(slot, c.patients[1])]), true));
    expect(r.status).toBe(409);
  });
});

describe('manual confirmation', () => {
  it('turns a patient\'s booking into a proposal the provider accepts', async () => {
    const [slot] = await freeSlots(t.db, c.manualRole, 1, Date.now() + 3 * 86_400_000);
    const { resource } = await repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(slot, c.patients[0]));
    const appt = resource as Appointment;
    expect(appt.status).toBe('proposed');
    expect(await slotStatus(slot.id!)).toBe('busy-tentative');
    expect(await refused(repoAs(t.db, asPatient(c.patients[0])).update({ ...appt, status: 'booked' }))).toMatchObject({ status: 422 });
    const provider = repoAs(t.db, asRole('physiotherapist', `Practitioner/${c.manual}`));
    const accepted = await provider.update({
      ...appt, participant: appt.participant.map((p) => (p.actor?.reference?.startsWith('Practitioner') ? { ...p, status: 'accepted' as const } : p)),
    });
    expect((accepted.resource as Appointment).status).toBe('booked');
    expect(await slotStatus(slot.id!)).toBe('busy');
  });

  it('frees the slot when the provider declines', async () => {
    const [, slot] = await freeSlots(t.db, c.manualRole, 2, Date.now() + 3 * 86_400_000);
    const { resource } = await repoAs(t.db, asPatient(c.patients[1])).create(appointmentFor(slot, c.patients[1]));
    const appt = resource as Appointment;
    const declined = await repoAs(t.db, asRole('physiotherapist', `Practitioner/${c.manual}`)).update({
      ...appt, participant: appt.participant.map((p) => (p.actor?.reference === `PractitionerRole/${c.manualRole}` ? { ...p, status: 'declined' as const } : p)),
    });
    expect((declined.resource as Appointment).status).toBe('cancelled');
    expect(await slotStatus(slot.id!)).toBe('free');
  });
});

describe('video visits', () => {
  it('gives a confirmed video appointment an unguessable room on VIDEO_BASE_URL', async () => {
    const video = { appointmentType: { coding: [{ system: 'urn:clinic:visit-type', code: 'video' }] } };
    const one = await repoAs(t.db, asPatient(c.patients[0])).create(appointmentFor(takeSlot(), c.patients[0], video));
    const two = await repoAs(t.db, asPatient(c.patients[1])).create(appointmentFor(takeSlot(), c.patients[1], video));
    const url = (a: any) => a.extension?.find((e: any) => e.url.endsWith('Appointment.virtualService'))?.extension?.find((e: any) => e.url === 'addressUrl')?.valueUrl;
    expect(url(one.resource)).toMatch(/^https:\/\/meet\.jit\.si\/clinic-[A-Za-z0-9_-]{22}$/);
    expect(url(two.resource)).not.toBe(url(one.resource));
    const inPerson = await repoAs(t.db, asPatient(c.patients[2])).create(appointmentFor(takeSlot(), c.patients[2]));
    expect(url(inPerson.resource)).toBeUndefined();
  });
});
