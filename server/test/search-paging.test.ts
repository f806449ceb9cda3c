/** Keyset paging, _total, _summary=count and multi-key _sort over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { create, createAll, follow, ids, link, search, searchStatus } from './search-helpers.ts';

let server: TestServer;
let patients: any[];
beforeAll(async () => {
  server = await startTestServer();
  // 25 patients: family names in 5 groups, birth dates spread, some without a birth date.
  patients = await createAll(
    server,
    Array.from({ length: 25 }, (_, i) => ({
      resourceType: 'Patient',
      name: [{ family: `Fam${i % 5}`, given: [`G${String(i).padStart(2, '0')}`] }],
      ...(i % 7 === 0 ? {} : { birthDate: `19${50 + i}-01-0${(i % 9) + 1}` }),
      gender: i % 2 ? 'male' : 'female',
    })),
  );
});
afterAll(async () => {
  await server?.close();
});

/** Every match reached by following `next` links from the first page. */
async function walk(query: string): Promise<{ pages: any[]; all: string[] }> {
  const pages = [await search(server, query)];
  for (let url = link(pages[0], 'next'); url; url = link(pages[pages.length - 1], 'next')) pages.push(await follow(url));
  return { pages, all: pages.flatMap(ids) };
}

describe('keyset paging', () => {
  it('walks every match once, in order, with self/first/next/previous links', async () => {
    const { pages, all } = await walk('Patient?_count=10');
    expect(pages.map((p) => ids(p).length)).toEqual([10, 10, 5]);
    expect(new Set(all).size).toBe(25);
    expect(link(pages[0], 'previous')).toBeUndefined();
    expect(link(pages[1], 'previous')).toBeDefined();
    expect(link(pages[2], 'next')).toBeUndefined();
    expect(link(pages[1], 'first')).toBe(`${server.fhir}/Patient?_count=10`);
    expect(link(pages[1], 'self')).toContain('_cursor=');
    // previous from page 3 is page 2, from page 2 is page 1
    const back = await follow(link(pages[2], 'previous') as string);
    expect(ids(back)).toEqual(ids(pages[1]));
    const back2 = await follow(link(back, 'previous') as string);
    expect(ids(back2)).toEqual(ids(pages[0]));
    expect(link(back2, 'previous')).toBeUndefined();
  });

  it('stays correct while data changes between pages', async () => {
    const first = await search(server, 'Patient?_sort=given&_count=5');
    // A new patient sorting before the cursor, and deletion of one not yet seen.
    const early = await create(server, { resourceType: 'Patient', name: [{ given: ['A-early'] }] });
    const seen = new Set(ids(first));
    const notSeen = patients.find((p) => !seen.has(p.id) && p.name[0].given[0] === 'G20');
    expect((await fetchJson(`${server.fhir}/Patient/${notSeen.id}`, { method: 'DELETE' })).status).toBe(200);
    const rest: string[] = [];
    for (let url = link(first, 'next'); url; ) {
      const page = await follow(url);
      rest.push(...ids(page));
      url = link(page, 'next');
    }
    const all = [...ids(first), ...rest];
    expect(new Set(all).size).toBe(all.length); // no duplicates
    expect(all).not.toContain(early.id); // sorted before the cursor
    expect(all).not.toContain(notSeen.id);
    expect(all.length).toBe(24);
    // cleanup for later tests
    await fetchJson(`${server.fhir}/Patient/${early.id}`, { method: 'DELETE' });
  });

  it('refuses a cursor that was made for another sort or is garbage', async () => {
    const page = await search(server, 'Patient?_sort=given&_count=5');
    const cursor = new URL(link(page, 'next') as string).searchParams.get('_cursor');
    expect((await searchStatus(server, `Patient?_sort=birthdate&_count=5&_cursor=${cursor}`)).status).toBe(400);
    expect((await searchStatus(server, 'Patient?_cursor=not-a-cursor')).status).toBe(400);
  });
});

describe('_sort', () => {
  it('sorts by several keys, descending with -, missing values last', async () => {
    const { all } = await walk('Patient?_sort=family,-birthdate&_count=7');
    const live = patients.filter((p) => p.name[0].given[0] !== 'G20');
    const expected = [...live].sort((a, b) => {
      if (a.name[0].family !== b.name[0].family) return a.name[0].family < b.name[0].family ? -1 : 1;
      if (!a.birthDate || !b.birthDate) return a.birthDate ? -1 : b.birthDate ? 1 : a.id < b.id ? -1 : 1;
      return a.birthDate === b.birthDate ? (a.id < b.id ? -1 : 1) : a.birthDate > b.birthDate ? -1 : 1;
    });
    expect(all).toEqual(expected.map((p) => p.id));
  });

  it('sorts by token, by _id and by _lastUpdated', async () => {
    const byGender = ids(await search(server, 'Patient?_sort=-gender,_id&_count=100'));
    const live = patients.filter((p) => p.name[0].given[0] !== 'G20');
    const expected = [...live].sort((a, b) => (a.gender !== b.gender ? (a.gender < b.gender ? 1 : -1) : a.id < b.id ? -1 : 1));
    expect(byGender).toEqual(expected.map((p) => p.id));
    const byId = ids(await search(server, 'Patient?_sort=-_id&_count=100'));
    expect(byId).toEqual(live.map((p) => p.id).sort().reverse());
    const byUpdated = ids(await search(server, 'Patient?_sort=_lastUpdated&_count=100'));
    expect(byUpdated.length).toBe(24);
  });

  it('refuses to sort on unknown or composite parameters', async () => {
    expect((await searchStatus(server, 'Patient?_sort=nope')).status).toBe(400);
    expect((await searchStatus(server, 'Observation?_sort=code-value-quantity')).status).toBe(400);
  });
});

describe('_total and _summary', () => {
  it('gives the total for free when everything fits on one page, and accurate on request', async () => {
    expect((await search(server, 'Patient?family=Fam1')).total).toBe(5);
    const paged = await search(server, 'Patient?_count=5');
    expect(paged.total).toBeUndefined();
    expect((await search(server, 'Patient?_count=5&_total=accurate')).total).toBe(24);
    expect((await search(server, 'Patient?family=Fam1&_total=none')).total).toBeUndefined();
    const estimate = (await search(server, 'Patient?_count=5&_total=estimate')).total;
    expect(typeof estimate).toBe('number');
  });

  it('_summary=count and _count=0 return only the total', async () => {
    const counted = await search(server, 'Patient?gender=male&_summary=count');
    expect(counted.total).toBe(patients.filter((p) => p.gender === 'male' && p.name[0].given[0] !== 'G20').length);
    expect(counted.entry).toBeUndefined();
    expect((await search(server, 'Patient?_count=0')).total).toBe(24);
  });

  it('caps _count at 1000 and refuses a malformed one', async () => {
    expect((await searchStatus(server, 'Patient?_count=abc')).status).toBe(400);
    expect((await searchStatus(server, 'Patient?_count=5000')).status).toBe(200);
  });
});

describe('_elements, _summary and POST _search', () => {
  it('returns only the asked elements, marked SUBSETTED', async () => {
    const b = await search(server, 'Patient?family=Fam1&_elements=gender');
    const p = b.entry[0].resource;
    expect(p.gender).toBeDefined();
    expect(p.name).toBeUndefined();
    expect(p.meta.tag.some((t: any) => t.code === 'SUBSETTED')).toBe(true);
  });

  it('answers POST _search with a form body like GET', async () => {
    const res = await fetchJson(`${server.fhir}/Patient/_search`, {
      method: 'POST',
      body: 'family=Fam2&_count=2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(ids(res.body).length).toBe(2);
    expect(link(res.body, 'next')).toContain('family=Fam2');
  });
});
