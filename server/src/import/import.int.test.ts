import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/db.ts';
import { verifyPassword } from '../accounts/password.ts';
import { formatProblem, runImport } from './run.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const GOOD = path.join(here, '../../test/fixtures/import-good');
const BAD = path.join(here, '../../test/fixtures/import-bad');

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase('postgres');
});
afterAll(async () => {
  await t?.close();
});

async function resources(type: string): Promise<any[]> {
  const { rows } = await t.db.query<{ content: string }>('SELECT content FROM resource WHERE type = $1 AND NOT deleted ORDER BY id', [type]);
  return rows.map((r) => JSON.parse(r.content));
}
async function count(table: string): Promise<number> {
  const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('CSV import', () => {
  it('reports every bad row with file and line, and imports nothing', async () => {
    const out = await runImport(t.db, BAD);
    expect(out.ok).toBe(false);
    const lines = out.ok ? [] : out.problems.map(formatProblem);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^users\.csv:3: email "not-an-email"/),
      expect.stringMatching(/^users\.csv:3: password must have at least 8/),
      expect.stringMatching(/^users\.csv:3: full_name is empty/),
      expect.stringMatching(/^users\.csv:3: role "wizard"/),
      expect.stringMatching(/^users\.csv:3: second_factor must be email/),
      expect.stringMatching(/^users\.csv:4: medicare_number/),
      expect.stringMatching(/^users\.csv:5: expertise is required/),
      expect.stringMatching(/^provider_centres\.csv:2: centre_name "Nowhere Clinic"/),
      expect.stringMatching(/^provider_centres\.csv:2: days "Mon-Fry"/),
      expect.stringMatching(/^provider_centres\.csv:2: start 17:00 is not before end 09:00/),
      expect.stringMatching(/^provider_centres\.csv:3: "tony@example.org" is not a provider/),
    ]));
    expect(await count('resource')).toBe(0);
    expect(await count('account')).toBe(0);
  });

  it('creates centres, providers with a role per centre, patients and accounts', async () => {
    const out = await runImport(t.db, GOOD);
    expect(out).toMatchObject({ ok: true, counts: { accountsCreated: 4, updated: 0, unchanged: 0 } });

    const orgs = await resources('Organization');
    const locations = await resources('Location');
    expect(orgs.map((o) => o.name).sort()).toEqual(['Garners Medical Centre', 'Royal Randwick Hospital']);
    const randwick = locations.find((l) => l.name === 'Royal Randwick Hospital');
    expect(randwick.address.city).toBe('Randwick');
    expect(randwick.managingOrganization.reference).toBe(`Organization/${orgs.find((o) => o.name === 'Royal Randwick Hospital').id}`);

    const practitioners = await resources('Practitioner');
    expect(practitioners).toHaveLength(3); // jack, sara and the receptionist
    const jack = practitioners.find((p) => p.name[0].text === 'Jack Jackson');
    expect(jack.identifier).toContainEqual({ system: 'http://ns.electronichealth.net.au/id/medicare-provider-number', value: '2426621B' });

    const roles = await resources('PractitionerRole');
    expect(roles).toHaveLength(3); // jack × 2 centres, sara × 1
    const jackRandwick = roles.find((r) => r.practitioner.reference === `Practitioner/${jack.id}` && r.location[0].reference === `Location/${randwick.id}`);
    expect(jackRandwick.code[0].coding[0].code).toBe('gp');
    expect(jackRandwick.availableTime).toEqual([
      { daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'], availableStartTime: '09:00:00', availableEndTime: '17:00:00' },
      { daysOfWeek: ['sat'], availableStartTime: '08:00:00', availableEndTime: '12:00:00' },
    ]);
    const sara = roles.find((r) => r.code[0].coding[0].code === 'specialist');
    expect(sara.specialty).toEqual([{ text: 'Cardiology' }]);

    const [tony] = await resources('Patient');
    expect(tony.identifier[0]).toMatchObject({ system: 'http://ns.electronichealth.net.au/id/medicare-number', value: '2123456701' });

    const { rows } = await t.db.query<any>('SELECT email, role, fhir_user, second_factor, password_hash FROM account ORDER BY email');
    const tonyAccount = rows.find((r) => r.email === 'Tony@Example.org');
    expect(tonyAccount).toMatchObject({ role: 'patient', fhir_user: `Patient/${tony.id}`, second_factor: 'email' });
    expect(tonyAccount.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(tonyAccount.password_hash, 'tony-password-1')).toBe(true);
    expect(rows.find((r) => r.email === 'jack@example.org').fhir_user).toBe(`Practitioner/${jack.id}`);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await t.db.query('SELECT type, id, version FROM resource ORDER BY type, id');
    const hashes = await t.db.query('SELECT email, password_hash FROM account ORDER BY email');
    const out = await runImport(t.db, GOOD);
    expect(out).toMatchObject({ ok: true, counts: { created: 0, updated: 0, accountsCreated: 0 } });
    expect((await t.db.query('SELECT type, id, version FROM resource ORDER BY type, id')).rows).toEqual(before.rows);
    expect((await t.db.query('SELECT email, password_hash FROM account ORDER BY email')).rows).toEqual(hashes.rows);
  });

  it('the CLI exits 1 and lists problems for a bad directory', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, [path.join(here, '../cli/import.ts'), BAD], {
      env: { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: 'silent' },
    }).then(() => undefined, (e) => e);
    expect(err?.code).toBe(1);
    expect(err.stderr).toMatch(/users\.csv:3: role "wizard"/);
    expect(err.stderr).toMatch(/nothing was imported/);
  });
});
