/** The referral gate for specialists, and ratings (latest per patient counts; exact under concurrency). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appointment, Basic, Practitioner, ServiceRequest, Slot } from '@medplum/fhirtypes';
import { OperationOutcomeError } from '../src/fhir/outcomes.ts';
import { RATING_CODE_SYSTEM, RATING_SCORE_URL, RATING_SUMMARY_URL } from '../src/scheduling/ratings.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { appointmentFor, asPatient, asRole, buildClinic, freeSlots, repoAs, type Clinic } from './sched-fixtures.ts';

let t: TestDatabase;
let c: Clinic;
beforeAll(async () => {
  t = await createTestDatabase('postgres');
  c = await buildClinic(t.db, 24);
});
afterAll(async () => {
  await t?.close();
});

async function status(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
    return [201, ''];
  } catch (err) {
    if (err instanceof OperationOutcomeError) return [err.status, err.outcome.issue?.[0]?.details?.text ?? ''];
    throw err;
  }
}

function referral(patient: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${patient}` },
    requester: { reference: `Practitioner/${c.gp}` }, performer: [{ reference: `Practitioner/${c.specialist}` }],
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
    code: { text: 'Cardiology consultation' }, note: [{ text: 'Dear Dr Heart, please see this patient about palpitations.' }],
    occurrencePeriod: { start: new Date(Date.now() - 86_400_000).toISOString(), end: new Date(Date.now() + 90 * 86_400_000).toISOString() },
    ...extra,
  };
}

describe('referral gate', () => {
  it('books a specialist only on an active, unexpired, unused referral from a GP for that patient', async () => {
    const slots = await freeSlots(t.db, c.specialistRole, 12, Date.now() + 86_400_000);
    const p = c.patients[0];
    const gp = repoAs(t.db, asRole('gp', `Practitioner/${c.gp}`));
    const book = (slot: Slot, sr?: string, patient = p) =>
      status(repoAs(t.db, asPatient(patient)).create(appointmentFor(slot, patient, sr ? { basedOn: [{ reference: `ServiceRequest/${sr}` }] } : {})));

    expect(await book(slots[0])).toEqual([422, expect.stringMatching(/only on a referral/)]);
    const mk = async (extra: Partial<ServiceRequest> = {}, patient = p) => (await gp.create(referral(patient, extra))).resource.id as string;
    expect(await book(slots[0], await mk({ status: 'draft' }))).toEqual([422, expect.stringMatching(/is draft, not active/)]);
    expect(await book(slots[0], await mk({}, c.patients[1]))).toEqual([422, expect.stringMatching(/another patient/)]);
    expect(await book(slots[0], await mk({ occurrencePeriod: { end: new Date(Date.now() - 1000).toISOString() } }))).toEqual([422, expect.stringMatching(/expired/)]);
    expect(await book(slots[0], await mk({ requester: { reference: `Practitioner/${c.manual}` } }))).toEqual([422, expect.stringMatching(/not made by a GP/)]);
    expect(await book(slots[0], await mk({ performer: [{ reference: `Practitioner/${c.manual}` }] }))).toEqual([422, expect.stringMatching(/another specialist/)]);

    const good = await mk();
    expect(await book(slots[0], good)).toEqual([201, '']);
    // Used once: not again.
    expect(await book(slots[1], good)).toEqual([422, expect.stringMatching(/already been used/)]);
    // A referral to the specialty (no named performer) works too.
    expect(await book(slots[2], await mk({ performer: undefined, performerType: { text: 'Cardiology' } }))).toEqual([201, '']);
    // Cancelling gives the referral back.
    const { rows } = await t.db.query<{ appointment_id: string }>('SELECT appointment_id FROM sched_appointment WHERE referral_id = $1', [good]);
    const appt = await repoAs(t.db).readResource<Appointment>('Appointment', rows[0].appointment_id);
    await repoAs(t.db, asPatient(p)).update({ ...appt, status: 'cancelled' });
    expect(await book(slots[3], good)).toEqual([201, '']);
  });
});

/** A past appointment with the GP (made by the platform, as history is). */
async function visit(patient: string, hoursAgo: number): Promise<void> {
  const repo = repoAs(t.db);
  const schedule = (await t.db.query<{ id: string }>(`SELECT id FROM resource WHERE type = 'Schedule' AND content LIKE '%PractitionerRole/' || $1 || '"%'`, [c.gpRole])).rows[0].id;
  const start = new Date(Math.floor((Date.now() - hoursAgo * 3_600_000) / 1_800_000) * 1_800_000);
  const slot = (await repo.create({ resourceType: 'Slot', schedule: { reference: `Schedule/${schedule}` }, status: 'free', start: start.toISOString(), end: new Date(start.getTime() + 1_800_000).toISOString() })).resource as Slot;
  await repo.create({ ...appointmentFor(slot, patient), status: 'fulfilled' });
}

const rating = (patient: string, subject: string, score: number): Basic => ({
  resourceType: 'Basic', meta: { profile: ['https://fhir.clinic.example/StructureDefinition/rating'] },
  code: { coding: [{ system: RATING_CODE_SYSTEM, code: 'rating' }] }, subject: { reference: subject }, author: { reference: `Patient/${patient}` },
  extension: [{ url: RATING_SCORE_URL, valueInteger: score }],
});

const summaryOf = (r: any) => {
  const ext = r.extension?.find((e: any) => e.url === RATING_SUMMARY_URL);
  return ext && Object.fromEntries(ext.extension.map((e: any) => [e.url, e.valueDecimal ?? e.valueInteger]));
};

describe('ratings', () => {
  it('lets only patients who had an appointment rate; their latest rating counts; reads carry the average', async () => {
    const [a, b, stranger] = c.patients.slice(2, 5);
    await visit(a, 30);
    await visit(b, 60);
    expect(await status(repoAs(t.db, asPatient(stranger)).create(rating(stranger, `Practitioner/${c.gp}`, 1)))).toEqual([422, expect.stringMatching(/had an appointment/)]);
    expect(await status(repoAs(t.db, asPatient(a)).create(rating(b, `Practitioner/${c.gp}`, 1)))).toEqual([422, expect.stringMatching(/own name/)]);
    expect((await status(repoAs(t.db, asPatient(a)).create(rating(a, `Practitioner/${c.gp}`, 7))))[0]).toBe(400);
    await repoAs(t.db, asPatient(a)).create(rating(a, `Practitioner/${c.gp}`, 4));
    await repoAs(t.db, asPatient(a)).create(rating(a, `PractitionerRole/${c.gpRole}`, 2)); // same provider: replaces the 4
    await repoAs(t.db, asPatient(b)).create(rating(b, `Practitioner/${c.gp}`, 5));
    const gp = await repoAs(t.db).readResource<Practitioner>('Practitioner', c.gp);
    expect(summaryOf(gp)).toEqual({ average: 3.5, count: 2, total: 7 });
    expect(summaryOf(await repoAs(t.db).readResource('PractitionerRole', c.gpRole))).toEqual({ average: 3.5, count: 2, total: 7 });
    // A client cannot overwrite the summary.
    await repoAs(t.db).update({ ...gp, extension: [{ url: RATING_SUMMARY_URL, extension: [{ url: 'average', valueDecimal: 5 }] }] });
    expect(summaryOf(await repoAs(t.db).readResource('Practitioner', c.gp))).toEqual({ average: 3.5, count: 2, total: 7 });
  });

  it('keeps the centre\'s average exact under 20 concurrent ratings', async () => {
    const raters = c.patients.slice(4, 24);
    for (const [i, p] of raters.entries()) await visit(p, 100 + i);
    const scores = raters.map((_, i) => (i % 5) + 1);
    await Promise.all(raters.map((p, i) => repoAs(t.db, asPatient(p)).create(rating(p, `Organization/${c.org}`, scores[i]))));
    const total = scores.reduce((x, y) => x + y, 0);
    const org = await repoAs(t.db).readResource('Organization', c.org);
    expect(summaryOf(org)).toEqual({ average: Math.round((total / 20) * 100) / 100, count: 20, total });
    // Everyone changes their mind at once, to 5: still one rating each.
    await Promise.all(raters.map((p) => repoAs(t.db, asPatient(p)).create(rating(p, `Location/${c.location}`, 5))));
    expect(summaryOf(await repoAs(t.db).readResource('Organization', c.org))).toEqual({ average: 5, count: 20, total: 100 });
    expect(summaryOf(await repoAs(t.db).readResource('Location', c.location))).toEqual({ average: 5, count: 20, total: 100 });
  });
});
