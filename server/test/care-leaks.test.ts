/**
 * Leak tests over HTTP: a GP who never saw Tony (but does treat Mia, so every count below has a
 * non-zero control) learns nothing of Tony through any door — includes, revincludes, chains,
 * reverse chains (`_has`), totals, `_summary=count`, history, `$everything`, compartment and
 * system search, conditional create, batch and transaction entries, paging links.
 */
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { createResource } from './auth-helpers.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { book, clientFor, clinical, refsIn, writeAs, type Client } from './care-helpers.ts';

let server: TestServer;
let tony: Client;
let mia: Client;
let jack: Client;
let stranger: Client;
const ids: Record<string, string> = {};
/** Tony's resources ("Type/id"), none of which may ever reach the stranger. */
const tonys: string[] = [];

const TONY_NAME = 'Zanzibarr';
const TONY_CODE = 'tumourmarker';
const MIA_CODE = 'weightcheck';
const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

/**
 * A response body as text without its `link`s (which echo the caller's own query, ids and names
 * included) and, with `echoed`, with the ids the caller itself asked for blanked in refusals.
 */
function mentions(body: unknown, echoed: string[] = []): string {
  let text = JSON.stringify(body ?? '', (k, v) => (k === 'link' ? undefined : v));
  for (const e of echoed) text = text.replaceAll(e, 'ASKED');
  return text.replace(/request id [0-9a-f-]+/g, 'request id R');
}

function expectNoTony(body: unknown, echoed: string[] = []): void {
  const text = mentions(body, echoed);
  expect(text).not.toContain(TONY_NAME);
  expect(text).not.toContain(TONY_CODE);
  // Tony's Patient id may appear as a reference inside Mia's (visible) note; his records' ids may not.
  for (const r of tonys.filter((t) => t !== tony.user.fhirUser)) expect(text).not.toContain(r.split('/')[1]);
  expect(text).not.toContain(`"id":"${tony.user.fhirUser.split('/')[1]}"`);
}

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  [tony, mia, jack, stranger] = await Promise.all([
    clientFor(server, 'patient', { name: `Tony ${TONY_NAME}` }),
    clientFor(server, 'patient', { name: 'Mia Wong' }),
    clientFor(server, 'gp', { name: 'Jack' }),
    clientFor(server, 'gp', { name: 'Stranger' }),
  ]);
  // A searchable family name for Tony (accounts get a generated one).
  const platform = new FhirRepository({ requestId: 'setup' }, server.database.db, { referentialIntegrity: false });
  const tonyPatient = await platform.readResource<Patient>('Patient', tony.user.fhirUser.split('/')[1]);
  await platform.update({ ...tonyPatient, name: [{ family: TONY_NAME, given: ['Tony'] }] });
  ids.org = ref(await createResource(server, { resourceType: 'Organization', name: 'Centre A' }));
  ids.other = ref(await createResource(server, { resourceType: 'Practitioner', name: [{ family: 'Other' }] }));
  const schedule = await createResource(server, { resourceType: 'Schedule', actor: [{ reference: jack.user.fhirUser }] });
  const slot = await createResource(server, { resourceType: 'Slot', schedule: { reference: ref(schedule) }, status: 'busy', start: '2033-01-01T00:00:00Z', end: '2033-01-01T00:30:00Z' });
  ids.slot = ref(slot);
  const tonyAppt = await createResource(server, {
    resourceType: 'Appointment', status: 'booked', start: '2033-01-01T00:00:00Z', end: '2033-01-01T00:30:00Z', slot: [{ reference: ids.slot }],
    participant: [{ actor: { reference: tony.user.fhirUser }, status: 'accepted' }, { actor: { reference: jack.user.fhirUser }, status: 'accepted' }],
  });
  tonys.push(tony.user.fhirUser, ref(tonyAppt));
  await book(server, mia.user.fhirUser, stranger.user.fhirUser);
  const tonyObs = await writeAs(server, ids.other, { ...clinical('Observation', tony.user.fhirUser, TONY_CODE), performer: [{ reference: ids.other }] } as Resource);
  const tonyEnc = await writeAs(server, ids.other, { ...clinical('Encounter', tony.user.fhirUser), serviceProvider: { reference: ids.org } } as Resource);
  const tonyCond = await writeAs(server, ids.other, clinical('Condition', tony.user.fhirUser, TONY_CODE));
  tonys.push(ref(tonyObs), ref(tonyEnc), ref(tonyCond));
  ids.tonyObs = ref(tonyObs);
  // Mia's data: visible to the stranger (controls); one of her Observations points at Tony.
  ids.miaObs = ref(await writeAs(server, ids.other, { ...clinical('Observation', mia.user.fhirUser, MIA_CODE), performer: [{ reference: ids.other }] } as Resource));
  ids.miaFocus = ref(await writeAs(server, ids.other, { ...clinical('Observation', mia.user.fhirUser, 'family history'), focus: [{ reference: tony.user.fhirUser }] } as Resource));
  ids.miaEnc = ref(await writeAs(server, ids.other, { ...clinical('Encounter', mia.user.fhirUser), serviceProvider: { reference: ids.org } } as Resource));
  // The Tony consents (made by the booking) are his too.
  const consents = await tony.get(`Consent?patient=${tony.user.fhirUser}`);
  tonys.push(...refsIn(consents.body));
  expect(tonys.some((r) => r.startsWith('Consent/'))).toBe(true);
  // Sanity: Jack (booked) sees Tony's observation; the stranger sees Mia's.
  expect((await jack.get(ids.tonyObs)).status).toBe(200);
  expect((await stranger.get(ids.miaObs)).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

describe('a provider without a grant learns nothing of the patient', () => {
  it.each([
    ['search by subject', () => `Observation?subject=${tony.user.fhirUser}&_total=accurate`, 0, [] as (() => string)[]],
    ['search by _id', () => `Observation?_id=${ids.tonyObs.split('/')[1]}&_total=accurate`, 0, []],
    ['search by code', () => `Condition?code:text=${TONY_CODE}&_total=accurate`, 0, []],
    ['patients by name', () => `Patient?name=${TONY_NAME}&_total=accurate`, 0, []],
    ['all patients (_total=accurate)', () => 'Patient?_total=accurate', 1, [() => mia.user.fhirUser]],
    ['all observations (_total=accurate)', () => 'Observation?_total=accurate', 2, [() => ids.miaObs, () => ids.miaFocus]],
    ['chain subject:Patient.name', () => `Observation?subject:Patient.name=${TONY_NAME}&_total=accurate`, 0, []],
    ['chain through an invisible target (focus:Patient.name)', () => `Observation?focus:Patient.name=${TONY_NAME}&_total=accurate`, 0, []],
    ['_has on the patient', () => `Patient?_has:Observation:subject:code:text=${TONY_CODE}&_total=accurate`, 0, []],
    ['_has from a visible practitioner', () => `Practitioner?_has:Observation:performer:code:text=${TONY_CODE}&_total=accurate`, 0, []],
    ['_has control: Mia\'s observation', () => `Practitioner?_has:Observation:performer:code:text=${MIA_CODE}&_total=accurate`, 1, [() => ids.other]],
    ['_has on a directory Slot (who booked it)', () => `Slot?_has:Appointment:slot:patient=${tony.user.fhirUser}&_total=accurate`, 0, []],
    ['compartment search', () => `${tony.user.fhirUser}/Observation?_total=accurate`, 0, []],
    ['appointments and consents', () => `Appointment?patient=${tony.user.fhirUser}&_total=accurate`, 0, []],
    ['consents', () => `Consent?patient=${tony.user.fhirUser}&_total=accurate`, 0, []],
    ['system search with _type', () => '?_type=Observation,Condition,Encounter&_total=accurate', 3, [() => ids.miaObs, () => ids.miaFocus, () => ids.miaEnc]],
  ])('%s', async (_name, path, total, expected) => {
    const res = await stranger.get(path());
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(total);
    expect(refsIn(res.body, 'match').sort()).toEqual(expected.map((f) => f()).sort());
    expectNoTony(res.body);
  });

  it.each([
    ['patients by name', () => `Patient?name=${TONY_NAME}`, () => [tony.user.fhirUser]],
    ['chain subject:Patient.name', () => `Observation?subject:Patient.name=${TONY_NAME}`, () => [ids.tonyObs]],
    ['_has on the patient', () => `Patient?_has:Observation:subject:code:text=${TONY_CODE}`, () => [tony.user.fhirUser]],
    ['_has from a practitioner', () => `Practitioner?_has:Observation:performer:code:text=${TONY_CODE}`, () => [ids.other]],
    ['_has on a Slot', () => `Slot?_has:Appointment:slot:patient=${tony.user.fhirUser}`, () => [ids.slot]],
    ['compartment search', () => `${tony.user.fhirUser}/Observation`, () => [ids.tonyObs]],
  ])('control: a granted provider (Jack) finds Tony by %s', async (_name, path, expected) => {
    const res = await jack.get(path());
    expect(res.status).toBe(200);
    expect(refsIn(res.body, 'match')).toEqual(expected());
  });

  it('control: the platform finds Mia\'s note through the chain on its focus', async () => {
    const { parseSearch } = await import('../src/fhir/search/parse.ts');
    const platform = new FhirRepository({ requestId: 'check' }, server.database.db, { referentialIntegrity: false });
    const found = await platform.search(parseSearch('Observation', { 'focus:Patient.name': TONY_NAME }));
    expect(found.matches.map((m) => `${m.type}/${m.id}`)).toEqual([ids.miaFocus]);
  });

  it.each([
    ['_summary=count', () => 'Observation?_summary=count', 2],
    ['_summary=count on the patient\'s code', () => `Observation?code:text=${TONY_CODE}&_summary=count`, 0],
    ['_summary=count on the patient', () => `Observation?subject=${tony.user.fhirUser}&_summary=count`, 0],
    ['_count=0', () => `Encounter?service-provider=${ids.org}&_count=0&_total=accurate`, 1],
  ])('counts: %s', async (_name, path, total) => {
    const res = await stranger.get(path());
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(total);
    expect(res.body.entry ?? []).toEqual([]);
  });

  it('_include from a visible resource to the patient leaves the patient out', async () => {
    for (const q of [`Observation?_id=${ids.miaFocus.split('/')[1]}&_include=Observation:focus`, `Observation?_id=${ids.miaFocus.split('/')[1]}&_include=*`, `Observation?_id=${ids.miaFocus.split('/')[1]}&_include:iterate=Observation:focus`]) {
      const res = await stranger.get(q);
      expect(res.status, q).toBe(200);
      expect(refsIn(res.body, 'match')).toEqual([ids.miaFocus]);
      expect(refsIn(res.body, 'include')).not.toContain(tony.user.fhirUser);
      expectNoTony(res.body);
    }
    // Control: Jack, who has a grant, does get Tony through the same include.
    const forJack = await jack.get(`Observation?_id=${ids.miaFocus.split('/')[1]}&_include=Observation:focus`);
    // (Jack has no grant for Mia, so he sees neither: the include is no way around that either.)
    expect(refsIn(forJack.body)).toEqual([]);
  });

  it('_revinclude from a visible resource leaves the patient\'s records out', async () => {
    const res = await stranger.get(`Organization?_id=${ids.org.split('/')[1]}&_revinclude=Encounter:service-provider`);
    expect(refsIn(res.body, 'include')).toEqual([ids.miaEnc]);
    const byPerformer = await stranger.get(`Practitioner?_id=${ids.other.split('/')[1]}&_revinclude=Observation:performer&_revinclude=*`);
    expect(refsIn(byPerformer.body, 'include').sort()).toEqual([ids.miaObs]);
    expectNoTony(res.body);
    expectNoTony(byPerformer.body);
    const slot = await stranger.get(`Slot?_id=${ids.slot.split('/')[1]}&_revinclude=Appointment:slot`);
    expect(refsIn(slot.body)).toEqual([ids.slot]);
    expectNoTony(slot.body);
  });

  it('history: instance 404 (as for a missing record), type and system history refused', async () => {
    const missing = await stranger.get('Observation/no-such-thing/_history');
    expect(missing.status).toBe(404);
    for (const [path, asked] of [[`${ids.tonyObs}/_history`, ids.tonyObs], [`${ids.tonyObs}/_history/1`, ids.tonyObs], [`${tony.user.fhirUser}/_history`, tony.user.fhirUser]]) {
      const res = await stranger.get(path);
      expect(res.status, path).toBe(404);
      expectNoTony(res.body, [asked.split('/')[1]]);
      // The same answer as for a record that does not exist.
      expect(mentions(res.body, [asked.split('/')[1], asked.split('/')[0]])).toBe(mentions(missing.body, ['no-such-thing', 'Observation']).replace(/\/_history\/1/, ''));
    }
    for (const path of ['Observation/_history', 'Patient/_history', '_history']) {
      const res = await stranger.get(path);
      expect(res.status, path).toBe(403);
      expectNoTony(res.body);
    }
  });

  it('$everything: 404', async () => {
    const res = await stranger.get(`${tony.user.fhirUser}/$everything`);
    expect(res.status).toBe(404);
    expectNoTony(res.body, [tony.user.fhirUser.split('/')[1]]);
  });

  it.each(['batch', 'transaction'] as const)('%s GET entries are each refused or filtered', async (type) => {
    const res = await stranger.post('', {
      resourceType: 'Bundle', type,
      entry: [
        { request: { method: 'GET', url: ids.tonyObs } },
        { request: { method: 'GET', url: `Observation?subject=${tony.user.fhirUser}&_total=accurate` } },
        { request: { method: 'GET', url: 'Observation?_summary=count' } },
        { request: { method: 'GET', url: `${tony.user.fhirUser}/_history` } },
        { request: { method: 'GET', url: `Patient?_has:Observation:subject:code:text=${TONY_CODE}` } },
      ],
    });
    if (type === 'transaction') {
      // A transaction fails as a whole on its first refused entry, answered like that entry.
      expect(res.status).toBe(404);
      expectNoTony(res.body, [ids.tonyObs.split('/')[1], tony.user.fhirUser.split('/')[1]]);
      const searches = await stranger.post('', {
        resourceType: 'Bundle', type,
        entry: [
          { request: { method: 'GET', url: `Observation?subject=${tony.user.fhirUser}&_total=accurate` } },
          { request: { method: 'GET', url: 'Observation?_summary=count' } },
          { request: { method: 'GET', url: `Patient?_has:Observation:subject:code:text=${TONY_CODE}&_total=accurate` } },
        ],
      });
      expect(searches.status).toBe(200);
      expect(searches.body.entry.map((e: any) => e.resource.total)).toEqual([0, 2, 0]);
      expectNoTony(searches.body);
      return;
    }
    expect(res.status).toBe(200);
    const entries = (res.body as Bundle).entry ?? [];
    expect(entries.map((e) => e.response?.status?.slice(0, 3))).toEqual(['404', '200', '200', '404', '200']);
    expect((entries[1].resource as Bundle).total).toBe(0);
    expect((entries[2].resource as Bundle).total).toBe(2);
    expect((entries[4].resource as Bundle).entry ?? []).toEqual([]);
    expectNoTony(res.body, [ids.tonyObs.split('/')[1], tony.user.fhirUser.split('/')[1]]);
  });

  it('paging links made for a granted provider give nothing to the stranger', async () => {
    const first = await jack.get(`Observation?subject=${tony.user.fhirUser}&_count=1&_total=accurate`);
    expect(first.status).toBe(200);
    expect(refsIn(first.body)).toEqual([ids.tonyObs]);
    const self = (first.body as Bundle).link!.find((l) => l.relation === 'self')!.url;
    const res = await stranger.url(self);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    expectNoTony(res.body);
  });

  it('paging through everything the stranger may see never reaches the patient', async () => {
    const seen: string[] = [];
    let res = await stranger.get('Observation?_count=1&_sort=_lastUpdated');
    for (let i = 0; i < 10; i++) {
      expect(res.status).toBe(200);
      expectNoTony(res.body);
      seen.push(...refsIn(res.body));
      const next = (res.body as Bundle).link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      res = await stranger.url(next);
    }
    expect(seen.sort()).toEqual([ids.miaObs, ids.miaFocus].sort());
  });

  // Last: it adds an Observation of Mia's that the counts above do not expect.
  it('conditional create does not match (or return) the patient\'s records', async () => {
    const res = await fetch(`${server.fhir}/Observation`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stranger.token}`, 'content-type': 'application/fhir+json', 'if-none-exist': `code:text=${TONY_CODE}` },
      body: JSON.stringify(clinical('Observation', mia.user.fhirUser, TONY_CODE)),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; subject: { reference: string } };
    expect(body.subject.reference).toBe(mia.user.fhirUser);
    expect(tonys).not.toContain(`Observation/${body.id}`);
  });
});
