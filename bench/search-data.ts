/**
 * Generated clinic data for the search benchmark and the plan checks: organisations, locations,
 * practitioners with roles, patients, appointments, encounters and observations, in realistic
 * proportions, written straight into the store (same index extraction and write statement as
 * the repository, without HTTP) so a million resources load in minutes.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../server/src/db/database.ts';
import { writeVersions, type VersionRow } from '../server/src/fhir/repo/write-sql.ts';
import { extractIndexRows } from '../server/src/fhir/search/extract.ts';

const SYL_A = ['Jack', 'Mor', 'Wil', 'Thom', 'Har', 'Nguy', 'Pat', 'Rob', 'And', 'Mart', 'Kel', 'Ste', 'Bro', 'Dav', 'Eve', 'Gar', 'Hol', 'Lin', 'Mac', 'Oli', 'Par', 'Ram', 'San', 'Tay', 'Whi', 'Yor', 'Zan', 'Cam', 'Fer', 'Quin'];
const SYL_B = ['son', 'ris', 'liams', 'as', 'per', 'en', 'el', 'erts', 'ers', 'in', 'ly', 'wart', 'wn', 'ies', 'cia', 'ton', 'ford', 'dale', 'more', 'ley', 'well', 'sey', 'ders', 'lor', 'te', 'ke', 'der', 'ero', 'nandez', 'lan'];
const GIVEN = ['Amy', 'Ben', 'Chloe', 'Dan', 'Emma', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jack', 'Kai', 'Lily', 'Mia', 'Noah', 'Olivia', 'Ravi', 'Sofia', 'Tom', 'Uma', 'Zoe'];
const SUBURBS = ['Randwick', 'Coogee', 'Bondi', 'Maroubra', 'Kensington', 'Paddington', 'Newtown', 'Parramatta', 'Chatswood', 'Manly'];
const CODES = ['8867-4', '8480-6', '8462-4', '29463-7', '8302-2', '39156-5', '2339-0', '718-7', '4548-4', '2093-3'];

/** All families: 30 × 30 = 900 distinct names, so a full family name is selective. */
export const FAMILIES = SYL_A.flatMap((a) => SYL_B.map((b) => a + b));

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface Generated {
  patients: string[];
  practitioners: string[];
  organizations: string[];
}

/** Shares of the total per type. */
const MIX = { Organization: 0.001, Location: 0.001, Practitioner: 0.01, PractitionerRole: 0.01, Patient: 0.1, Appointment: 0.2, Encounter: 0.1 };

function day(r: () => number, fromYear = 2022, years = 4): Date {
  return new Date(Date.UTC(fromYear, 0, 1) + Math.floor(r() * years * 365) * 86_400_000 + Math.floor(r() * 16 + 7) * 1_800_000);
}

/** Generates `total` resources and writes them in batches; returns some ids for queries. */
export async function loadGenerated(db: { transaction<T>(w: (tx: Queryable) => Promise<T>): Promise<T> }, total: number, onProgress?: (done: number) => void): Promise<Generated> {
  const r = rng(20261122);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const n = (share: number) => Math.max(2, Math.round(total * share));
  const out: Generated = { patients: [], practitioners: [], organizations: [] };
  const now = new Date().toISOString();
  let batch: VersionRow[] = [];
  let done = 0;
  const flush = async () => {
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    await db.transaction(async (tx) => {
      await writeVersions(tx, rows);
      // This stands for data the store already held: no change events, or the server's jobs
      // (bots writing notifications for every appointment) would run during the measurements.
      await tx.query('DELETE FROM outbox_event WHERE res_id = ANY($1::text[])', [rows.map((row) => row.id)]);
    });
    done += rows.length;
    onProgress?.(done);
  };
  const add = async (resource: Record<string, unknown>) => {
    const id = randomUUID();
    const stored = { ...resource, id, meta: { versionId: '1', lastUpdated: now } } as unknown as Resource;
    batch.push({ type: stored.resourceType, id, version: 1, lastUpdated: now, deleted: false, method: 'POST', content: JSON.stringify(stored), replaces: false, index: extractIndexRows(stored) });
    if (batch.length >= 500) await flush();
    return id;
  };
  const locations: string[] = [];
  for (let i = 0; i < n(MIX.Organization); i++) {
    const suburb = SUBURBS[i % SUBURBS.length];
    const name = i === 0 ? 'Royal Randwick Hospital' : `${pick(FAMILIES)} ${suburb} ${i % 3 ? 'Medical Centre' : 'Hospital'}`;
    const org = await add({ resourceType: 'Organization', name, address: [{ city: suburb }] });
    out.organizations.push(org);
    locations.push(await add({ resourceType: 'Location', name, address: { city: suburb }, managingOrganization: { reference: `Organization/${org}` } }));
  }
  const roles: { role: string; prac: string }[] = [];
  for (let i = 0; i < n(MIX.Practitioner); i++) {
    const prac = await add({ resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: [pick(GIVEN)], family: pick(FAMILIES) }], identifier: [{ system: 'urn:provider', value: `P${i}` }] });
    out.practitioners.push(prac);
    const role = await add({ resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${prac}` }, organization: { reference: `Organization/${pick(out.organizations)}` }, code: [{ coding: [{ code: i % 4 ? 'gp' : 'specialist' }] }] });
    roles.push({ role, prac });
  }
  for (let i = 0; i < n(MIX.Patient); i++) {
    out.patients.push(await add({
      resourceType: 'Patient',
      name: [{ given: [pick(GIVEN)], family: pick(FAMILIES) }],
      gender: r() < 0.5 ? 'female' : 'male',
      birthDate: `19${String(30 + Math.floor(r() * 70)).padStart(2, '0')}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 10)}`,
      address: [{ city: pick(SUBURBS) }],
    }));
  }
  for (let i = 0; i < n(MIX.Appointment); i++) {
    const start = day(r);
    const { role, prac } = pick(roles);
    await add({
      resourceType: 'Appointment',
      status: r() < 0.8 ? 'booked' : 'cancelled',
      start: start.toISOString(),
      end: new Date(start.getTime() + 1_800_000).toISOString(),
      participant: [
        { actor: { reference: `Patient/${pick(out.patients)}` }, status: 'accepted' },
        { actor: { reference: `PractitionerRole/${role}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${prac}` }, status: 'accepted' },
        { actor: { reference: `Location/${pick(locations)}` }, status: 'accepted' },
      ],
    });
  }
  for (let i = 0; i < n(MIX.Encounter); i++) {
    const start = day(r);
    await add({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${pick(out.patients)}` }, participant: [{ individual: { reference: `Practitioner/${pick(out.practitioners)}` } }], period: { start: start.toISOString(), end: new Date(start.getTime() + 1_800_000).toISOString() } });
  }
  while (done + batch.length < total) {
    await add({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: pick(CODES) }] },
      subject: { reference: `Patient/${pick(out.patients)}` },
      effectiveDateTime: day(r).toISOString(),
      valueQuantity: { value: Math.round(r() * 2000) / 10, unit: 'unit', system: 'http://unitsofmeasure.org', code: '1' },
    });
  }
  await flush();
  return out;
}

export interface SearchQuery {
  name: string;
  /** Path below the FHIR base, with query string. */
  path: () => string;
}

/** The target queries, each drawing fresh selective values per call. */
export function searchQueries(g: Generated, seed = 7): SearchQuery[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const month = () => {
    const y = 2022 + Math.floor(r() * 4);
    const m = 1 + Math.floor(r() * 12);
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    return [`${y}-${String(m).padStart(2, '0')}`, next];
  };
  return [
    { name: 'patient by name prefix', path: () => `Patient?name=${pick(FAMILIES).slice(0, 6)}` },
    {
      name: 'Observation by patient + code + date range',
      path: () => {
        const [from, to] = month();
        return `Observation?subject=Patient/${pick(g.patients)}&code=http://loinc.org|${pick(CODES)}&date=ge${from.slice(0, 4)}-01-01&date=lt${to}`;
      },
    },
    {
      name: 'Appointment by practitioner + date range',
      path: () => {
        const [from, to] = month();
        return `Appointment?actor=Practitioner/${pick(g.practitioners)}&date=ge${from}&date=lt${to}`;
      },
    },
    { name: 'chain Appointment?actor:Practitioner.name=', path: () => `Appointment?actor:Practitioner.name=${pick(FAMILIES)}&date=ge2025-06-01` },
    { name: '_has Patient?_has:Appointment:patient:actor=', path: () => `Patient?_has:Appointment:patient:actor=Practitioner/${pick(g.practitioners)}` },
    { name: '_include practitioners of appointments', path: () => `Appointment?patient=Patient/${pick(g.patients)}&_include=Appointment:actor:Practitioner` },
    { name: '_total=accurate on a selective query', path: () => `Observation?subject=Patient/${pick(g.patients)}&_total=accurate` },
  ];
}
