/** The demo data: deterministic CSVs that the import accepts, and a loader that builds the network. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CENTRES, SERVICE_TYPES, demoServices, generateNetwork, networkCsv } from '../../seed/generate.ts';
import { isEmptyDatabase, loadDemoData, type DemoCounts } from '../../seed/load.ts';
import { CSV_DIR } from '../../seed/write-csv.ts';
import { diagnosisCounts } from '../src/analytics/diagnoses.ts';
import { runImport } from '../src/import/run.ts';
import { systemContext } from '../src/context.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { parseSearch } from '../src/fhir/search/parse.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

let t: TestDatabase;
let counts: DemoCounts;
beforeAll(async () => {
  t = await createTestDatabase('postgres');
  expect(await isEmptyDatabase(t.db)).toBe(true);
  counts = await loadDemoData(t.db);
}, 300_000);
afterAll(async () => {
  await t?.close();
});

const count = async (sql: string, params: unknown[] = []) => (await t.db.query<{ n: number }>(sql, params)).rows[0].n;

describe('demo data', () => {
  it('is generated deterministically, and the committed CSVs are what the generator makes', () => {
    expect(generateNetwork()).toEqual(generateNetwork());
    for (const [name, text] of Object.entries(networkCsv(generateNetwork()))) {
      expect(fs.readFileSync(path.join(CSV_DIR, name), 'utf8')).toBe(text);
    }
  });

  it('loads 5 centres (one Royal Randwick Hospital), 30 providers, 200 patients, schedules and slots', async () => {
    expect(await isEmptyDatabase(t.db)).toBe(false);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Organization'`)).toBe(5);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Location' AND content LIKE '%Royal Randwick Hospital%'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Patient'`)).toBe(200);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'PractitionerRole'`)).toBeGreaterThan(30);
    expect(await count(`SELECT count(DISTINCT content::jsonb->'practitioner'->>'reference')::int AS n FROM resource WHERE type = 'PractitionerRole'`)).toBe(30);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Schedule'`)).toBe(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'PractitionerRole'`));
    expect(await count(`SELECT count(*)::int AS n FROM sched_slot WHERE status = 'free' AND starts > now()`)).toBeGreaterThan(10_000);
    expect(await count(`SELECT count(*)::int AS n FROM account`)).toBe(233);
  });

  it('has past and future appointments, referrals, notes and ratings, with no double bookings', async () => {
    // About 400 past visits and 120 bookings; the exact number depends on the day and hour the
    // data is generated (slots are relative to now), so the bound leaves room.
    expect(counts.appointments).toBeGreaterThan(300);
    expect(counts.referrals).toBeGreaterThan(10);
    expect(counts.notes).toBeGreaterThan(100);
    expect(counts.ratings).toBeGreaterThan(50);
    expect(counts.diagnoses).toBe(Math.floor(counts.notes / 2));
    expect(await count(`SELECT count(*)::int AS n FROM sched_appointment WHERE starts < now()`)).toBeGreaterThan(200);
    expect(await count(`SELECT count(*)::int AS n FROM sched_appointment WHERE starts > now()`)).toBeGreaterThan(50);
    expect(await count(`SELECT count(*)::int AS n FROM sched_appointment WHERE referral_id IS NOT NULL`)).toBeGreaterThan(3);
    expect(await count(`SELECT count(*)::int AS n FROM (SELECT content::jsonb->'slot'->0->>'reference' AS s FROM resource WHERE type = 'Appointment' AND NOT deleted GROUP BY 1 HAVING count(*) > 1) d`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Practitioner' AND content LIKE '%rating-summary%'`)).toBeGreaterThan(5);
  });

  it('has a HealthcareService per centre and service type on offer, deterministic and searchable', async () => {
    const services = demoServices();
    expect(demoServices()).toEqual(services);
    // Every centre has general practice and specialist clinics; all six service types occur.
    for (const c of CENTRES) expect(services.filter((s) => s.centre_name === c.name).map((s) => s.service_type)).toEqual(expect.arrayContaining(['gp', 'specialist-clinics']));
    expect(new Set(services.map((s) => s.service_type))).toEqual(new Set(SERVICE_TYPES.map((t) => t.code)));
    expect(counts.services).toBe(services.length);
    const { rows } = await t.db.query<{ content: string }>(`SELECT content FROM resource WHERE type = 'HealthcareService' AND NOT deleted`);
    expect(rows).toHaveLength(services.length);
    const repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: true });
    for (const svc of rows.map((r) => JSON.parse(r.content))) {
      const expected = services.find((s) => s.name === svc.name);
      expect(expected).toBeDefined();
      const location = await repo.readResource<any>('Location', svc.location[0].reference.split('/')[1]);
      expect(location.name).toBe(expected!.centre_name);
      expect(svc.providedBy.reference).toBe(location.managingOrganization.reference);
      expect(svc.type[0].coding[0].code).toBe(expected!.service_type);
      expect(svc.availableTime.length).toBeGreaterThan(0);
      if (expected!.service_type === 'specialist-clinics') expect(svc.specialty.map((x: any) => x.text).sort()).toEqual([...expected!.specialties].sort());
    }
    const search = parseSearch('HealthcareService', { 'service-type': 'urn:clinic:service-type|physiotherapy', 'location.address-city': 'Coogee' });
    const found = (await repo.search(search)).matches.map((m) => JSON.parse(m.content as string).name);
    expect(found).toEqual(['Physiotherapy — Coogee Family Practice']);
    // Centres' services carry their rating summary once patients rated the centre.
    expect(await count(`SELECT count(*)::int AS n FROM resource WHERE type = 'HealthcareService' AND content LIKE '%rating-summary%'`)).toBeGreaterThan(0);
  });

  it('a later import of the same CSVs creates nothing new', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM resource_history`);
    const out = await runImport(t.db, CSV_DIR);
    expect(out).toMatchObject({ ok: true, counts: { created: 0, accountsCreated: 0 } });
    expect(await count(`SELECT count(*)::int AS n FROM resource_history`)).toBeGreaterThanOrEqual(before);
  });
});

describe('demo diagnoses', () => {
  it('give the managers\' counts several named diagnoses over the last 90 days', async () => {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const result = await diagnosisCounts(t.db, { from: day(Date.now() - 90 * 86_400_000), to: day(Date.now() + 86_400_000) });
    expect(result.diagnoses.length).toBeGreaterThanOrEqual(5);
    expect(result.diagnoses.reduce((n, d) => n + d.count, 0) + result.suppressed.count).toBe(counts.diagnoses);
    expect(result.diagnoses.every((d) => d.code && d.system === 'http://snomed.info/sct')).toBe(true);
  });
});
