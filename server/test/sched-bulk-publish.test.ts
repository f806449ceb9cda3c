/**
 * SMART Scheduling Links over HTTP: the public `$bulk-publish` manifest, its NDJSON Location,
 * Schedule and weekly Slot files (free future slots with booking deep links), and `_since`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKING_DEEP_LINK_URL } from '../src/scheduling/publish.ts';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { appointmentFor, buildClinic, freeSlots, type Clinic } from './sched-fixtures.ts';
import { createUser, loginForTokens } from './auth-helpers.ts';

let server: TestServer;
let c: Clinic;
let token: string;
beforeAll(async () => {
  // AUTH on: the publication must be reachable without a token, everything else still needs one.
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  c = await buildClinic(server.database.db, 2);
  const admin = await createUser(server, 'admin');
  token = (await loginForTokens(server, admin, { clientId: 'charting-app', scope: 'openid fhirUser user/*.cruds' })).access_token;
}, 120_000);
afterAll(async () => {
  await server?.close();
});

interface Manifest { transactionTime: string; request: string; output: { type: string; url: string }[]; error: unknown[] }

async function manifest(query = ''): Promise<{ status: number; type: string | null; body: Manifest }> {
  const res = await fetch(`${server.fhir}/$bulk-publish${query}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() as Manifest };
}

async function ndjson(url: string): Promise<any[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
  const text = await res.text();
  if (!text) return [];
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => {
    expect(line).not.toMatch(/\n/);
    return JSON.parse(line);
  });
}

async function filesOf(m: Manifest, type: string): Promise<any[]> {
  const out: any[] = [];
  for (const o of m.output.filter((x) => x.type === type)) out.push(...(await ndjson(o.url)));
  return out;
}

const freeFutureCount = async () => (await server.database.db.query<{ n: number }>(
  `SELECT count(*)::int AS n FROM sched_slot s WHERE s.status = 'free' AND s.starts > now()
     AND NOT EXISTS (SELECT 1 FROM sched_claim c WHERE c.slot_id = s.slot_id AND (c.expires_at IS NULL OR c.expires_at > now()))`)).rows[0].n;

async function book(slotIndex: number, patient: string): Promise<string> {
  const [slot] = (await freeSlots(server.database.db, c.gpRole, slotIndex + 1, Date.now() + 86_400_000)).slice(slotIndex);
  const res = await fetchJson(`${server.fhir}/Appointment`, { method: 'POST', body: appointmentFor(slot, patient), headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(201);
  return slot.id as string;
}

describe('$bulk-publish', () => {
  it('is public, while the rest of the API still asks for a token', async () => {
    expect((await fetch(`${server.fhir}/Slot`)).status).toBe(401);
    const m = await manifest();
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^application\/json/);
  });

  it('answers a manifest with transactionTime, request and Location, Schedule and weekly Slot files on our server', async () => {
    const before = Date.now();
    const { body } = await manifest();
    expect(Date.parse(body.transactionTime)).toBeGreaterThan(before - 5_000);
    expect(body.transactionTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(body.request).toBe(`${server.fhir}/$bulk-publish`);
    expect(body.error).toEqual([]);
    expect(body.output.filter((o) => o.type === 'Location')).toEqual([{ type: 'Location', url: `${server.fhir}/$bulk-publish/Location.ndjson` }]);
    expect(body.output.filter((o) => o.type === 'Schedule')).toEqual([{ type: 'Schedule', url: `${server.fhir}/$bulk-publish/Schedule.ndjson` }]);
    const slotFiles = body.output.filter((o) => o.type === 'Slot');
    // Every day 09:00–17:00 over an 8-week horizon: 8 or 9 calendar weeks.
    expect(slotFiles.length).toBeGreaterThanOrEqual(8);
    for (const f of slotFiles) expect(f.url).toMatch(new RegExp(`^${server.fhir.replace(/[.]/g, '\\.')}/\\$bulk-publish/Slot-\\d{4}-\\d{2}-\\d{2}\\.ndjson$`));
  });

  it('publishes the Location, the Schedules (Location first) and only free future slots, each with a booking deep link', async () => {
    const booked = await book(0, c.patients[0]);
    const { body } = await manifest();
    const locations = await filesOf(body, 'Location');
    expect(locations.map((l) => l.id)).toEqual([c.location]);
    expect(locations[0]).toMatchObject({ resourceType: 'Location', name: 'Royal Randwick Hospital' });

    const schedules = await filesOf(body, 'Schedule');
    expect(schedules).toHaveLength(3);
    for (const s of schedules) {
      expect(s.resourceType).toBe('Schedule');
      expect(s.actor[0]).toEqual({ reference: `Location/${c.location}` });
    }
    const roles = schedules.map((s) => s.actor.find((a: any) => a.reference.startsWith('PractitionerRole/')).reference).sort();
    expect(roles).toEqual([c.gpRole, c.specialistRole, c.manualRole].map((r) => `PractitionerRole/${r}`).sort());

    const slots = await filesOf(body, 'Slot');
    expect(slots.length).toBe(await freeFutureCount());
    expect(new Set(slots.map((s) => s.id)).size).toBe(slots.length);
    const scheduleIds = new Set(schedules.map((s) => `Schedule/${s.id}`));
    const now = Date.now();
    for (const s of slots) {
      expect(s.resourceType).toBe('Slot');
      expect(s.status).toBe('free');
      expect(Date.parse(s.start)).toBeGreaterThan(now - 60_000);
      expect(scheduleIds.has(s.schedule.reference)).toBe(true);
      expect(s.extension).toContainEqual({ url: BOOKING_DEEP_LINK_URL, valueUrl: `${server.url}/apps/booking/?slot=${s.id}` });
    }
    expect(slots.some((s) => s.id === booked)).toBe(false);
    // Each weekly file holds the slots of its week only, soonest first.
    const first = body.output.find((o) => o.type === 'Slot') as { url: string };
    const week = (await ndjson(first.url)).map((s) => Date.parse(s.start));
    expect(week).toEqual([...week].sort((a, b) => a - b));
    expect(Math.max(...week) - Math.min(...week)).toBeLessThan(7 * 86_400_000);
  });

  it('with _since lists only what changed after that instant (a slot booked meanwhile as busy, without a link)', async () => {
    const { body: full } = await manifest();
    const since = full.transactionTime;
    await new Promise((r) => setTimeout(r, 20));
    const booked = await book(1, c.patients[1]);
    const { body } = await manifest(`?_since=${encodeURIComponent(since)}`);
    expect(body.request).toBe(`${server.fhir}/$bulk-publish?_since=${encodeURIComponent(since)}`);
    for (const o of body.output) expect(o.url.endsWith(`?_since=${encodeURIComponent(since)}`)).toBe(true);
    expect(await filesOf(body, 'Location')).toEqual([]);
    expect(await filesOf(body, 'Schedule')).toEqual([]);
    const slots = await filesOf(body, 'Slot');
    expect(slots.map((s) => [s.id, s.status])).toEqual([[booked, 'busy']]);
    expect(slots[0].extension).toBeUndefined();
    // A full publication afterwards leaves it out.
    expect((await filesOf((await manifest()).body, 'Slot')).some((s) => s.id === booked)).toBe(false);
  });

  it('refuses a malformed _since (400), unknown files (404), and other methods (405); the CapabilityStatement lists it', async () => {
    const bad = await fetchJson(`${server.fhir}/$bulk-publish?_since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.resourceType).toBe('OperationOutcome');
    expect((await fetchJson(`${server.fhir}/$bulk-publish/Patient.ndjson`)).status).toBe(404);
    expect((await fetchJson(`${server.fhir}/$bulk-publish/Slot-2025-13-45.ndjson`)).status).toBe(404);
    expect((await fetchJson(`${server.fhir}/$bulk-publish`, { method: 'POST', body: {}, headers: { authorization: `Bearer ${token}` } })).status).toBe(405);
    // Other system operations do not grow files.
    expect((await fetchJson(`${server.fhir}/$validate/x.ndjson`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    const cs = await fetchJson(`${server.fhir}/metadata`);
    const system = cs.body.rest[0].operation as { name: string }[];
    expect(system.map((o) => o.name)).toContain('bulk-publish');
  });
});
