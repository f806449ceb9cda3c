/**
 * The driven page (driven.ts) against the general page (sql.ts): for every search it drives, the
 * same matches in the same order on every page, forwards and backwards, with cursors that work
 * across the two; over its cap it gives way to the general page. Deleted and hidden resources
 * stay out. Against PostgreSQL and PGlite.
 */
import type { Observation, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../../../test/db.ts';
import { allowAll, type AccessPolicy } from '../../access/policy.ts';
import { systemContext } from '../../context.ts';
import { loadDefinitions } from '../definitions.ts';
import { FhirRepository } from '../repo/repository.ts';
import { drivenPageSql, prefixUpperBound } from './driven.ts';
import { normalizeString } from './normalize.ts';
import { parseSearch, type QueryParams } from './parse.ts';
import { runSearch, type SearchResult } from './run.ts';

describe('prefixUpperBound', () => {
  it('steps the last character up, skipping surrogates and dropping a last U+10FFFF', () => {
    expect(prefixUpperBound('smi')).toBe('smj');
    expect(prefixUpperBound('a\u007f')).toBe('a\u0080');
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('ab\u{10ffff}')).toBe('ac');
    expect(prefixUpperBound('\u{10ffff}')).toBeUndefined();
  });

  it('bounds exactly the strings that start with the prefix, in byte order', () => {
    const prefix = 'sm\u00ff';
    const upper = Buffer.from(prefixUpperBound(prefix) as string);
    for (const s of ['sm\u00ff', 'sm\u00ffz', 'sm\u00ff\u{10ffff}', 'sm\u0100', 'sm\u00fe\u{10ffff}', 'sn', 'sm']) {
      const b = Buffer.from(s);
      const inRange = Buffer.compare(b, Buffer.from(prefix)) >= 0 && Buffer.compare(b, upper) < 0;
      expect(inRange, s).toBe(s.startsWith(prefix));
    }
  });
});

describe.each<TestDbKind>(['postgres', 'pglite'])('driven search pages on %s', (kind) => {
  let database: TestDatabase;
  let repo: FhirRepository;
  const patientIds: string[] = [];
  let patients: Patient[] = [];
  let deletedId: string;

  beforeAll(async () => {
    loadDefinitions();
    database = await createTestDatabase(kind);
    repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: false });
    patients = Array.from({ length: 45 }, (_, n) => ({
      resourceType: 'Patient',
      // Several name rows per patient may match "smi" (family and given): each patient once.
      name: [{ family: ['Smith', 'Smithers', 'Śmigielski', 'Jones', 'Smyth'][n % 5], given: [n % 3 ? 'Ann' : 'Smitty'] }],
      gender: n % 2 ? 'male' : 'female',
    }));
    const created = await repo.createMany(patients);
    patients = created.map((c) => c.resource as Patient);
    patientIds.push(...patients.map((p) => p.id as string));
    const observations: Observation[] = Array.from({ length: 40 }, (_, n) => ({
      resourceType: 'Observation',
      status: n % 4 ? 'final' : 'preliminary',
      code: { coding: [{ system: 'http://loinc.org', code: n % 2 ? '8867-4' : '9279-1' }] },
      subject: { reference: `Patient/${patientIds[n % 3]}` },
    }));
    await repo.createMany(observations);
    deletedId = patientIds[0];
    await repo.delete('Patient', deletedId);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  const search = (type: string, query: QueryParams, access: AccessPolicy = allowAll, driverCap?: number): Promise<SearchResult> =>
    runSearch(database.db, parseSearch(type, query), access, { driverCap });

  /** Every page's ids, following `next` from the first page, then `previous` back from the last. */
  async function walk(type: string, query: QueryParams, access: AccessPolicy, driverCap?: number): Promise<{ forward: string[][]; backward: string[][] }> {
    const forward: string[][] = [];
    let page = await search(type, query, access, driverCap);
    forward.push(page.matches.map((m) => m.id));
    while (page.next) {
      page = await search(type, { ...query, _cursor: page.next }, access, driverCap);
      forward.push(page.matches.map((m) => m.id));
    }
    const backward: string[][] = [];
    while (page.previous) {
      page = await search(type, { ...query, _cursor: page.previous }, access, driverCap);
      backward.push(page.matches.map((m) => m.id));
    }
    return { forward, backward };
  }

  const driven: [string, () => QueryParams][] = [
    ['Patient', () => ({ name: 'smi', _count: '4' })],
    ['Patient', () => ({ name: 'SMITH' })],
    ['Patient', () => ({ name: 'śmig', _count: '2' })],
    ['Patient', () => ({ family: 'smith', _count: '3' })],
    ['Patient', () => ({ given: 'smitty', _count: '5' })],
    ['Patient', () => ({ name: 'smi', _sort: '-_id', _count: '4' })],
    ['Patient', () => ({ name: 'nobody' })],
    ['Observation', () => ({ subject: `Patient/${patientIds[1]}`, _count: '4' })],
    ['Observation', () => ({ subject: patientIds[2], _count: '5' })],
    ['Observation', () => ({ 'subject:Patient': patientIds[2] })],
    ['Observation', () => ({ code: 'http://loinc.org|8867-4', _count: '6' })],
  ];

  it('drives each of these searches from the index, under the cap', async () => {
    for (const [type, query] of driven) {
      const sql = drivenPageSql(parseSearch(type, query()), allowAll);
      expect(sql, `${type}?${JSON.stringify(query())}`).toBeDefined();
      const { rows } = await database.db.query<{ driver_rows: number }>(sql!.sql, sql!.params);
      expect(rows[0].driver_rows).toBeLessThan(sql!.cap);
    }
  });

  it('gives the same pages as the general search, forwards and backwards', async () => {
    for (const [type, query] of driven) {
      const label = `${type}?${JSON.stringify(query())}`;
      const general = await walk(type, query(), allowAll, 0);
      const fast = await walk(type, query(), allowAll);
      expect(fast, label).toEqual(general);
      // A small cap sends the bigger searches to the general page part of the way: same pages.
      expect(await walk(type, query(), allowAll, 5), label).toEqual(general);
    }
    // The order is the resources' ids, ascending, and each patient comes once.
    const all = (await walk('Patient', { name: 'smi', _count: '100' }, allowAll, 0)).forward.flat();
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
    // Smith, Smithers and Śmigielski by family, Smitty by given name, less the deleted Smith.
    const expected = patients.filter((p) => p.id !== deletedId && [p.name?.[0].family, ...(p.name?.[0].given ?? [])].some((n) => normalizeString(n ?? '').startsWith('smi')));
    expect(all.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(20);
  });

  it('leaves deleted resources out and keeps the access policy', async () => {
    const smiths = (await search('Patient', { name: 'smith', _count: '100' })).matches.map((m) => m.id);
    expect(smiths).not.toContain(deletedId);
    // A policy that hides every male patient.
    const femaleOnly: AccessPolicy = {
      ...allowAll,
      visibleRows: (type, alias, params) => (type === 'Patient' ? `${alias}.content::jsonb ->> 'gender' = ${params.add('female')}` : undefined),
    };
    const visible = await walk('Patient', { name: 'smi', _count: '3' }, femaleOnly);
    expect(visible).toEqual(await walk('Patient', { name: 'smi', _count: '3' }, femaleOnly, 0));
    const shown = visible.forward.flat();
    expect(shown.length).toBeGreaterThan(0);
    for (const id of shown) expect(patients.find((p) => p.id === id)?.gender).toBe('female');
  });

  it('continues a driven page with the general one and back (one cursor for both)', async () => {
    const first = await search('Patient', { name: 'smi', _count: '4' });
    const nextGeneral = await search('Patient', { name: 'smi', _count: '4', _cursor: first.next as string }, allowAll, 0);
    const nextDriven = await search('Patient', { name: 'smi', _count: '4', _cursor: first.next as string });
    expect(nextDriven.matches.map((m) => m.id)).toEqual(nextGeneral.matches.map((m) => m.id));
    expect(nextDriven.next).toEqual(nextGeneral.next);
    expect(nextDriven.previous).toEqual(nextGeneral.previous);
  });

  it('does not drive searches it cannot answer exactly', async () => {
    const not: [string, QueryParams][] = [
      ['Patient', { name: 'smi', _sort: 'birthdate' }],
      ['Patient', { 'name:contains': 'mit' }],
      ['Patient', { 'name:exact': 'Smith' }],
      ['Patient', { name: 'smi,jon' }],
      ['Observation', { code: 'http://loinc.org|' }],
      ['Observation', { 'code:not': '8867-4' }],
      ['Observation', { 'subject:identifier': 'urn:x|1' }],
      ['Patient', { _id: patientIds[3] }],
      // Several filters: the planner chooses where to start.
      ['Patient', { name: 'smi', gender: 'male' }],
      ['Observation', { code: '9279-1', subject: `Patient/${patientIds[1]}` }],
    ];
    for (const [type, query] of not) {
      expect(drivenPageSql(parseSearch(type, query), allowAll), `${type}?${JSON.stringify(query)}`).toBeUndefined();
    }
    // A compartment search (Patient/x/Observation?code=…) has a second condition too.
    const inCompartment = { ...parseSearch('Observation', { code: '8867-4' }), compartment: `Patient/${patientIds[1]}` };
    expect(drivenPageSql(inCompartment, allowAll)).toBeUndefined();
  });
});
