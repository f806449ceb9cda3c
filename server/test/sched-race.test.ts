/**
 * 100 concurrent requests race for one slot over HTTP: exactly one 201, every other answer a 409
 * OperationOutcome saying "Slot unavailable", and the database holds one booking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { appointmentFor, buildClinic, freeSlots, type Clinic } from './sched-fixtures.ts';

let server: TestServer;
let c: Clinic;
beforeAll(async () => {
  server = await startTestServer();
  c = await buildClinic(server.database.db, 100);
});
afterAll(async () => {
  await server?.close();
});

describe('one booking per slot under concurrency', () => {
  it('of 100 concurrent POST /Appointment for one slot, exactly one gets 201 and 99 get 409', async () => {
    const [slot] = await freeSlots(server.database.db, c.gpRole, 1, Date.now() + 86_400_000);
    const answers = await Promise.all(c.patients.map((p) => fetchJson(`${server.fhir}/Appointment`, { method: 'POST', body: appointmentFor(slot, p) })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(a.body.resourceType).toBe('OperationOutcome');
      expect(a.body.issue[0].details.text).toMatch(/^Slot unavailable/);
    }
    const { rows } = await server.database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resource WHERE type = 'Appointment' AND NOT deleted AND content LIKE '%' || $1 || '%'`, [`Slot/${slot.id}`],
    );
    expect(rows[0].n).toBe(1);
    const read = await fetchJson(`${server.fhir}/Slot/${slot.id}`);
    expect(read.body.status).toBe('busy');
  });

  it('$book-style transaction Bundles race the same way', async () => {
    const [slot] = await freeSlots(server.database.db, c.gpRole, 1, Date.now() + 2 * 86_400_000);
    const answers = await Promise.all(c.patients.slice(0, 30).map((p) => fetchJson(`${server.fhir}`, {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Appointment' }, resource: appointmentFor(slot, p) }] },
    })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(29);
  });
});
