/**
 * The access seam: every resource alias a search touches (main query, chains, _has, includes,
 * counts) is narrowed by AccessPolicy.visibleRows. A fake policy hides some rows; they must not
 * show up, or be counted, by any route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { allowAll, type AccessPolicy } from '../src/access/policy.ts';
import { systemContext } from '../src/context.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { FhirRouter } from '../src/fhir/router.ts';
import type { QueryParams } from '../src/fhir/search/parse.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

let database: TestDatabase;
const hidden = new Set<string>();
const aliasesSeen = new Set<string>();
/** Hides the resources in `hidden` (by "Type/id") and records which aliases it was asked about. */
const hiding: AccessPolicy = {
  ...allowAll,
  visibleRows(type, alias, params) {
    aliasesSeen.add(alias);
    const ids = [...hidden].filter((h) => h.startsWith(`${type}/`)).map((h) => h.split('/')[1]);
    return ids.length ? `${alias}.id <> ALL(${params.add(ids)}::text[])` : undefined;
  },
};
const router = new FhirRouter({ fhirBaseUrl: 'http://test/fhir', capabilityStatement: () => ({ resourceType: 'CapabilityStatement' }) as Resource });
const r: Record<string, any> = {};

async function find(path: string, query: QueryParams): Promise<{ ids: string[]; included: string[]; total?: number }> {
  const repo = new FhirRepository({ ...systemContext(), access: hiding }, database.db, { referentialIntegrity: true });
  const res = await router.handle({ method: 'GET', path, query, headers: {} }, repo);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = (typeof res.body === 'string' ? JSON.parse(res.body) : res.body) as any;
  const entries = body.entry ?? [];
  return {
    ids: entries.filter((e: any) => e.search.mode === 'match').map((e: any) => `${e.resource.resourceType}/${e.resource.id}`),
    included: entries.filter((e: any) => e.search.mode === 'include').map((e: any) => `${e.resource.resourceType}/${e.resource.id}`),
    total: body.total,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const repo = new FhirRepository(systemContext(), database.db, { referentialIntegrity: true });
  const mk = async (res: any) => (await repo.create(res)).resource as any;
  r.visiblePat = await mk({ resourceType: 'Patient', name: [{ family: 'Shown' }] });
  r.hiddenPat = await mk({ resourceType: 'Patient', name: [{ family: 'Secret' }] });
  r.visibleObs = await mk({ resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'A' }] }, subject: { reference: `Patient/${r.visiblePat.id}` } });
  r.hiddenObs = await mk({ resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'SECRET' }] }, subject: { reference: `Patient/${r.visiblePat.id}` } });
  r.obsOfHidden = await mk({ resourceType: 'Observation', status: 'final', code: { coding: [{ code: 'A' }] }, subject: { reference: `Patient/${r.hiddenPat.id}` } });
  const items = (...xs: any[]) => xs.map((x) => ({ item: { reference: `${x.resourceType}/${x.id}` } }));
  r.visibleList = await mk({ resourceType: 'List', status: 'current', mode: 'working', entry: items(r.visiblePat, r.hiddenPat) });
  r.hiddenList = await mk({ resourceType: 'List', status: 'current', mode: 'working', entry: items(r.visiblePat) });
  hidden.add(`List/${r.hiddenList.id}`);
  hidden.add(`Patient/${r.hiddenPat.id}`);
  hidden.add(`Observation/${r.hiddenObs.id}`);
});
afterAll(async () => {
  await database?.close();
});

const ref = (x: any) => `${x.resourceType}/${x.id}`;

describe('hidden rows stay hidden through every route', () => {
  it('main query and _total', async () => {
    const res = await find('/Patient', { _total: 'accurate' });
    expect(res.ids).toEqual([ref(r.visiblePat)]);
    expect(res.total).toBe(1);
    expect((await find('/Observation', { _summary: 'count' })).total).toBe(2);
  });

  it('chains', async () => {
    aliasesSeen.clear();
    expect((await find('/Observation', { 'subject:Patient.name': 'secret' })).ids).toEqual([]);
    expect((await find('/Observation', { 'subject:Patient.name': 'shown' })).ids.sort()).toEqual([ref(r.visibleObs)]);
    expect([...aliasesSeen].some((a) => a !== 'r')).toBe(true);
  });

  it('_has', async () => {
    expect((await find('/Patient', { '_has:Observation:subject:code': 'SECRET' })).ids).toEqual([]);
    expect((await find('/Patient', { '_has:Observation:subject:code': 'A', _total: 'accurate' })).total).toBe(1);
  });

  it('_include and _revinclude', async () => {
    const inc = await find('/Observation', { _include: 'Observation:subject' });
    expect(inc.ids.sort()).toEqual([ref(r.visibleObs), ref(r.obsOfHidden)].sort());
    expect(inc.included).toEqual([ref(r.visiblePat)]);
    const rev = await find('/Patient', { _revinclude: 'Observation:subject' });
    expect(rev.included).toEqual([ref(r.visibleObs)]);
    const star = await find('/Observation', { _include: '*' });
    expect(star.included).not.toContain(ref(r.hiddenPat));
  });

  it('_list: a hidden List selects nothing, a hidden item stays hidden', async () => {
    expect((await find('/Patient', { _list: r.hiddenList.id })).ids).toEqual([]);
    expect((await find('/Patient', { _list: r.visibleList.id, _total: 'accurate' })).ids).toEqual([ref(r.visiblePat)]);
    expect((await find('/Patient', { _list: r.visibleList.id, _total: 'accurate' })).total).toBe(1);
  });

  it('system search over several types', async () => {
    const res = await find('/', { _type: 'Patient,Observation', _total: 'accurate' });
    expect(res.total).toBe(3);
    expect(res.ids).not.toContain(ref(r.hiddenPat));
    expect(res.ids).not.toContain(ref(r.hiddenObs));
  });
});
