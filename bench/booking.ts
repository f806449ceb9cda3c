/**
 * The SCHED booking benchmark (`npm run bench -- --booking`): BENCH_BOOKING_PATIENTS (500)
 * simulated patients book at once from a pool of BENCH_BOOKING_SLOTS (250) free slots, so several
 * patients race for each slot. Every patient picks a random slot of the pool and POSTs an
 * Appointment for it; on 409 ("Slot unavailable") it picks another, up to BENCH_BOOKING_ATTEMPTS
 * (5) tries. Reported: attempts/s with p50/p99 latency over every attempt, successful bookings/s,
 * and — checked afterwards in SQL — the double bookings (two live appointments on one slot, or
 * one patient holding two overlapping ones), which must be 0.
 *
 * Callers: the bench server runs with AUTH_REQUIRED=off, but token-less requests would run as the
 * platform, which the booking rules trust (no past/hours/booker checks). So each simulated patient
 * sends a real patient access token instead (role patient, fhirUser and patient = its Patient,
 * scope patient/Appointment.crus), signed with the server's own key from the bench database
 * exactly as the token endpoint signs them: the full patient path (token verification, SMART
 * scopes, CARE, the booking rules, the audit trail) is measured.
 *
 * Setup (as the platform): one centre, BENCH_BOOKING_PROVIDERS (4) GPs with hours 09:00–12:00 every
 * day (slots follow from the hours), the patients (transaction Bundles of 100).
 */
import { performance } from 'node:perf_hooks';
import type { Appointment, Bundle, Slot } from '@medplum/fhirtypes';
import { PostgresDatabase } from '../server/src/db/postgres.ts';
import { KeyStore } from '../server/src/oauth/keys.ts';
import { KEY_GRACE_MS, KEY_ROTATE_MS } from '../server/src/oauth/settings.ts';
import { signAccessToken } from '../server/src/oauth/tokens.ts';
import { percentile, printScenario, type BenchServer, type ScenarioResult } from './harness.ts';
import { rng } from '../seed/generate.ts';

const PATIENTS = Number(process.env.BENCH_BOOKING_PATIENTS ?? 500);
const POOL = Number(process.env.BENCH_BOOKING_SLOTS ?? 250);
const ATTEMPTS = Number(process.env.BENCH_BOOKING_ATTEMPTS ?? 5);
const PROVIDERS = Number(process.env.BENCH_BOOKING_PROVIDERS ?? 4);
const FHIR_JSON = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

async function transaction(server: BenchServer, resources: object[]): Promise<string[]> {
  const entry = resources.map((resource) => ({ resource, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } }));
  const res = await fetch(server.fhir, { method: 'POST', headers: FHIR_JSON, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
  if (res.status !== 200) throw new Error(`setup transaction failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as Bundle;
  return (body.entry ?? []).map((e) => (e.response?.location as string).split('/')[5]);
}

async function setup(server: BenchServer): Promise<{ patients: string[]; pool: Slot[] }> {
  const [org] = await transaction(server, [{ resourceType: 'Organization', name: 'Bench Medical Centre', active: true }]);
  const [location] = await transaction(server, [{
    resourceType: 'Location', status: 'active', name: 'Bench Medical Centre', address: { line: ['1 Bench St'], city: 'Randwick', state: 'NSW', postalCode: '2031' },
    managingOrganization: { reference: `Organization/${org}` },
  }]);
  const practitioners = await transaction(server, Array.from({ length: PROVIDERS }, (_, i) => ({
    resourceType: 'Practitioner', active: true, name: [{ text: `Dr Bench ${i + 1}`, family: 'Bench', given: [`Doc${i + 1}`] }],
  })));
  // One role at a time: each creates its Schedule and 8 weeks of slots.
  for (const p of practitioners) {
    await transaction(server, [{
      resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${p}` },
      organization: { reference: `Organization/${org}` }, location: [{ reference: `Location/${location}` }],
      code: [{ coding: [{ system: 'urn:clinic:provider-role', code: 'gp' }], text: 'gp' }],
      availableTime: [{ daysOfWeek: EVERY_DAY, availableStartTime: '09:00:00', availableEndTime: '12:00:00' }],
    }]);
  }
  const patients: string[] = [];
  for (let done = 0; done < PATIENTS; done += 100) {
    patients.push(...(await transaction(server, Array.from({ length: Math.min(100, PATIENTS - done) }, (_, i) => ({
      resourceType: 'Patient', active: true, name: [{ family: `Bench${done + i}`, given: ['Booking'] }], gender: i % 2 ? 'female' : 'male',
    })))));
  }
  // The pool: the soonest free slots from tomorrow on (what a patient would see in the booking app).
  const from = new Date(Date.now() + 86_400_000).toISOString();
  const pool: Slot[] = [];
  let url: string | undefined = `${server.fhir}/Slot?status=free&start=ge${encodeURIComponent(from)}&_sort=start&_count=${Math.min(POOL, 1000)}`;
  while (url && pool.length < POOL) {
    const page = (await (await fetch(url, { headers: FHIR_JSON })).json()) as Bundle<Slot>;
    pool.push(...(page.entry ?? []).map((e) => e.resource as Slot));
    url = page.link?.find((l) => l.relation === 'next')?.url;
  }
  if (pool.length < POOL) throw new Error(`only ${pool.length} free slots for a pool of ${POOL}`);
  return { patients, pool: pool.slice(0, POOL) };
}

/** Patient access tokens signed with the server's current key (as the token endpoint would). */
async function patientTokens(server: BenchServer, patients: string[]): Promise<string[]> {
  // Make sure the server has its signing key (and has loaded it) before we sign with it.
  if ((await fetch(`${server.url}/oauth/jwks`)).status !== 200) throw new Error('no JWKS');
  const db = new PostgresDatabase(server.databaseUrl, 2);
  try {
    const issuer = { issuer: server.url, audience: server.fhir, keys: new KeyStore(db, { rotateAfterMs: KEY_ROTATE_MS, graceMs: KEY_GRACE_MS }), db };
    const tokens: string[] = [];
    for (const id of patients) {
      tokens.push((await signAccessToken(issuer, {
        sub: `bench-patient-${id}`, client_id: 'booking-app', role: 'patient', fhirUser: `Patient/${id}`, patient: id,
        scope: 'openid fhirUser launch/patient patient/Appointment.crus patient/Slot.rs patient/Patient.r',
      })).token);
    }
    return tokens;
  } finally {
    await db.close();
  }
}

function appointment(slot: Slot, patient: string): Appointment {
  return {
    resourceType: 'Appointment', status: 'booked', slot: [{ reference: `Slot/${slot.id}` }], start: slot.start, end: slot.end,
    participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' }],
    description: 'Bench booking', reasonCode: [{ text: 'Annual check-up' }],
  };
}

interface Verification { doubleBooked: number; overlapping: number; appointments: number; claims: number }

async function verify(server: BenchServer): Promise<Verification> {
  const db = new PostgresDatabase(server.databaseUrl, 1);
  const n = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0].n;
  try {
    const live = `SELECT id, content::jsonb AS a FROM resource WHERE type = 'Appointment' AND NOT deleted
                   AND content::jsonb->>'status' IN ('proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled')`;
    return {
      // Slots that two or more live appointments name (from the FHIR resources themselves).
      doubleBooked: await n(`SELECT count(*)::int AS n FROM (SELECT s->>'reference' FROM (${live}) x, jsonb_array_elements(x.a->'slot') s
                              GROUP BY 1 HAVING count(*) > 1) d`),
      // Patients holding two live appointments that overlap in time.
      overlapping: await n(`WITH p AS (SELECT x.id, pa->'actor'->>'reference' AS patient, (x.a->>'start')::timestamptz AS s, (x.a->>'end')::timestamptz AS e
                              FROM (${live}) x, jsonb_array_elements(x.a->'participant') pa WHERE pa->'actor'->>'reference' LIKE 'Patient/%')
                            SELECT count(*)::int AS n FROM p p1 JOIN p p2 ON p1.patient = p2.patient AND p1.id < p2.id AND p1.s < p2.e AND p2.s < p1.e`),
      appointments: await n(`SELECT count(*)::int AS n FROM (${live}) x`),
      claims: await n('SELECT count(*)::int AS n FROM sched_claim'),
    };
  } finally {
    await db.close();
  }
}

export async function run(server: BenchServer): Promise<ScenarioResult[]> {
  process.stdout.write(`\n▶ booking setup: ${PROVIDERS} providers, ${PATIENTS} patients, a pool of ${POOL} slots\n`);
  const t0 = Date.now();
  const { patients, pool } = await setup(server);
  const tokens = await patientTokens(server, patients);
  process.stdout.write(`  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const rand = rng(20_240_601);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const unexpected: string[] = [];
  let booked = 0;
  let lastBookedAt = 0;
  const patient = async (i: number) => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const slot = pool[Math.floor(rand() * pool.length)];
      const started = performance.now();
      let status = 0;
      try {
        const res = await fetch(`${server.fhir}/Appointment`, {
          method: 'POST', headers: { ...FHIR_JSON, authorization: `Bearer ${tokens[i]}`, prefer: 'return=minimal' },
          body: JSON.stringify(appointment(slot, patients[i])),
        });
        status = res.status;
        const text = await res.text();
        if (status !== 201 && status !== 409 && unexpected.length < 5) unexpected.push(`${status} ${text.slice(0, 300)}`);
      } catch (err) {
        if (unexpected.length < 5) unexpected.push((err as Error).message);
      }
      latencies.push(performance.now() - started);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 201) {
        booked++;
        lastBookedAt = performance.now();
        return;
      }
      if (status !== 409) return;
    }
  };

  process.stdout.write(`\n▶ ${PATIENTS} patients book at once (up to ${ATTEMPTS} tries each)\n`);
  const started = performance.now();
  await Promise.all(patients.map((_, i) => patient(i)));
  const secs = (performance.now() - started) / 1000;
  const v = await verify(server);
  const attempts = latencies.length;
  const failures = attempts - (statuses.get(201) ?? 0) - (statuses.get(409) ?? 0);
  for (const u of unexpected) process.stdout.write(`  unexpected answer: ${u}\n`);
  process.stdout.write(`  answers: ${[...statuses].sort().map(([s, c]) => `${s || 'error'}×${c}`).join(', ')} in ${secs.toFixed(2)} s\n`);
  process.stdout.write(`  ${booked} bookings of ${pool.length} pool slots (${(booked / secs).toFixed(1)} bookings/s over the whole run; the last booking after ${((lastBookedAt - started) / 1000).toFixed(2)} s, ${(booked / ((lastBookedAt - started) / 1000)).toFixed(1)} bookings/s until then); database: ${v.appointments} live appointments, ${v.claims} slot claims\n`);
  process.stdout.write(`  double bookings: ${v.doubleBooked} slots with two appointments, ${v.overlapping} overlapping pairs for one patient\n`);

  const race: ScenarioResult = {
    name: `book Appointment (${PATIENTS} patients, ${pool.length} slots)`,
    requestsPerSec: attempts / secs,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    requests: attempts,
    failures,
    extra: { label: 'bookings/s', value: booked / secs },
  };
  printScenario(race);
  // The invariant: no slot booked twice, no patient double-booked, and what the clients were
  // told (201s) is what the database holds.
  const mismatch = (v.appointments !== booked ? 1 : 0) + (v.claims !== booked ? 1 : 0);
  const check: ScenarioResult = {
    name: 'double bookings (SQL check, must be 0)',
    requestsPerSec: 0,
    p50: 0,
    p99: 0,
    requests: v.appointments,
    failures: v.doubleBooked + v.overlapping + mismatch,
  };
  return [race, check];
}
