/** $find, $book, $hold (with expiry) and $queue-position over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { appointmentFor, buildClinic, freeSlots, type Clinic } from './sched-fixtures.ts';

let server: TestServer;
let c: Clinic;
beforeAll(async () => {
  server = await startTestServer();
  c = await buildClinic(server.database.db, 9);
});
afterAll(async () => {
  await server?.close();
});

const post = (path: string, body: unknown) => fetchJson(`${server.fhir}/${path}`, { method: 'POST', body });

describe('Appointment/$find', () => {
  it('lists free slots of the GP as proposed appointments, soonest first, leaving out booked ones', async () => {
    const found = await fetchJson(`${server.fhir}/Appointment/$find?service-type=gp&_count=5&patient=Patient/${c.patients[0]}`);
    expect(found.status).toBe(200);
    expect(found.body.entry).toHaveLength(5);
    const first = found.body.entry[0].resource;
    expect(first).toMatchObject({ resourceType: 'Appointment', status: 'proposed' });
    expect(first.participant.map((p: any) => p.actor.reference)).toEqual([`Patient/${c.patients[0]}`, `PractitionerRole/${c.gpRole}`, `Practitioner/${c.gp}`, `Location/${c.location}`]);
    const starts = found.body.entry.map((e: any) => Date.parse(e.resource.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    // Book the first option as it is: it disappears from $find.
    const booked = await post('Appointment/$book', { resourceType: 'Parameters', parameter: [{ name: 'appt-resource', resource: first }] });
    expect(booked.status).toBe(201);
    expect(booked.body.status).toBe('booked');
    const again = await fetchJson(`${server.fhir}/Appointment/$find?service-type=gp&_count=5`);
    expect(again.body.entry.map((e: any) => e.resource.slot[0].reference)).not.toContain(first.slot[0].reference);
  });

  it('filters by specialty text and practitioner, and checks its parameters', async () => {
    const cardio = await fetchJson(`${server.fhir}/Appointment/$find?specialty=cardio&_count=3`);
    expect(cardio.body.entry.every((e: any) => e.resource.participant.some((p: any) => p.actor.reference === `Practitioner/${c.specialist}`))).toBe(true);
    const byPractitioner = await fetchJson(`${server.fhir}/Appointment/$find?practitioner=${c.manual}&_count=2`);
    expect(byPractitioner.body.entry[0].resource.participant[0].actor.reference).toBe(`PractitionerRole/${c.manualRole}`);
    expect((await fetchJson(`${server.fhir}/Appointment/$find?start=soon`)).status).toBe(400);
    expect((await fetchJson(`${server.fhir}/Appointment/$find?start=2030-01-02&end=2030-01-01`)).status).toBe(400);
  });
});

describe('$hold and $book', () => {
  it('holds a slot for a while, then confirms the hold', async () => {
    const [slot] = await freeSlots(server.database.db, c.gpRole, 1, Date.now() + 5 * 86_400_000);
    const held = await post('Appointment/$hold', appointmentFor(slot, c.patients[1]));
    expect(held.status).toBe(201);
    expect(held.body.status).toBe('pending');
    const expires = held.body.extension.find((e: any) => e.url.endsWith('hold-expires')).valueDateTime;
    expect(Date.parse(expires) - Date.now()).toBeGreaterThan(9 * 60_000);
    expect((await fetchJson(`${server.fhir}/Slot/${slot.id}`)).body.status).toBe('busy-tentative');
    const rival = await post('Appointment', appointmentFor(slot, c.patients[2]));
    expect(rival.status).toBe(409);
    const confirmed = await post('Appointment/$book', { resourceType: 'Appointment', id: held.body.id, status: 'booked', start: held.body.start, end: held.body.end, slot: held.body.slot, participant: held.body.participant });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('booked');
    expect(confirmed.body.extension).toBeUndefined();
    expect((await fetchJson(`${server.fhir}/Slot/${slot.id}`)).body.status).toBe('busy');
  });

  it('lets an expired hold lapse: the next booking takes the slot and the hold is cancelled', async () => {
    const [slot] = await freeSlots(server.database.db, c.gpRole, 1, Date.now() + 6 * 86_400_000);
    const held = await post('Appointment/$hold?hold-minutes=1', appointmentFor(slot, c.patients[3]));
    expect(held.status).toBe(201);
    // Let the minute pass (in the database's clock).
    await server.database.db.query(`UPDATE sched_claim SET expires_at = now() - interval '1 second' WHERE appointment_id = $1`, [held.body.id]);
    await server.database.db.query(`UPDATE sched_appointment SET expires_at = now() - interval '1 second' WHERE appointment_id = $1`, [held.body.id]);
    const found = await fetchJson(`${server.fhir}/Appointment/$find?practitioner-role=${c.gpRole}&start=${encodeURIComponent(slot.start)}&end=${encodeURIComponent(slot.end)}`);
    expect(found.body.entry.map((e: any) => e.resource.slot[0].reference)).toEqual([`Slot/${slot.id}`]);
    const taken = await post('Appointment', appointmentFor(slot, c.patients[4]));
    expect(taken.status).toBe(201);
    const lapsed = await fetchJson(`${server.fhir}/Appointment/${held.body.id}`);
    expect(lapsed.body.status).toBe('cancelled');
    expect((await post('Appointment/$hold?hold-minutes=90', appointmentFor(slot, c.patients[3]))).status).toBe(400);
    expect((await post('Appointment/$book', { resourceType: 'Patient' })).status).toBe(400);
  });
});

describe('queue', () => {
  it('orders checked-in patients by arrival and tells each their position', async () => {
    const slots = await freeSlots(server.database.db, c.specialistRole, 40);
    const day = slots.map((s) => s.start.slice(0, 10)).find((d) => slots.filter((s) => s.start.startsWith(d)).length >= 3);
    const sameDay = slots.filter((s) => s.start.startsWith(day as string)).slice(0, 3);
    expect(sameDay).toHaveLength(3);
    const ids: string[] = [];
    for (let i = 0; i < sameDay.length; i++) ids.push((await post('Appointment', appointmentFor(sameDay[i], c.patients[6 + i]))).body.id);
    const position = async (id: string) => Object.fromEntries(((await fetchJson(`${server.fhir}/Appointment/${id}/$queue-position`)).body).parameter.map((p: any) => [p.name, p.valueInteger ?? p.valueBoolean]));
    expect(await position(ids[0])).toEqual({ waiting: false });
    // Arrive in reverse order.
    for (const id of [...ids].reverse()) {
      const r = await fetchJson(`${server.fhir}/Appointment/${id}`, { method: 'PATCH', body: [{ op: 'replace', path: '/status', value: 'arrived' }], headers: { 'content-type': 'application/json-patch+json' } });
      expect(r.status).toBe(200);
    }
    const last = ids.length - 1;
    expect(await position(ids[last])).toMatchObject({ waiting: true, position: 1, 'queue-length': ids.length });
    expect(await position(ids[0])).toMatchObject({ position: ids.length });
    // The first one is seen: everyone moves up.
    await fetchJson(`${server.fhir}/Appointment/${ids[last]}`, { method: 'PATCH', body: [{ op: 'replace', path: '/status', value: 'fulfilled' }], headers: { 'content-type': 'application/json-patch+json' } });
    expect(await position(ids[0])).toMatchObject({ position: ids.length - 1, 'queue-length': ids.length - 1 });
  });
});
