/**
 * Table-driven tests per parameter type, modifier and prefix (many from the spec's own examples),
 * near-match text search, and lenient/strict handling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { create, ids, search, searchStatus } from './search-helpers.ts';

let server: TestServer;
const r: Record<string, any> = {};
beforeAll(async () => {
  server = await startTestServer();
  const p = (key: string, res: any) => create(server, res).then((x) => (r[key] = x));
  await p('eve', { resourceType: 'Patient', name: [{ given: ['Eve'], family: 'Ångström' }], birthDate: '1960-03-15', gender: 'female', identifier: [{ system: 'http://acme.org/patient', value: '2345', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }], active: true, meta: { tag: [{ system: 'urn:tags', code: 'vip' }], profile: ['http://example.org/fhir/StructureDefinition/my-patient'], source: 'http://example.org/src#1', security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] } });
  await p('evelyn', { resourceType: 'Patient', name: [{ given: ['Evelyn'], family: 'Smith' }], birthDate: '1960-11', gender: 'female', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Evelyn lives in <b>Coogee</b></p></div>' } });
  await p('severine', { resourceType: 'Patient', name: [{ given: ['Séverine'], family: 'Dubois' }], birthDate: '1975', gender: 'other', address: [{ city: 'Randwick' }] });
  await p('noname', { resourceType: 'Patient', gender: 'unknown', active: false });
  await p('rrh', { resourceType: 'Organization', name: 'Royal Randwick Hospital' });
  await p('rpa', { resourceType: 'Organization', name: 'Royal Prince Alfred Hospital' });
  await p('bondi', { resourceType: 'Organization', name: 'Bondi Junction Medical Centre' });
  await p('jackson', { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Amy'], family: 'Jackson' }] });
  await p('jack', { resourceType: 'Practitioner', name: [{ given: ['Jack'], family: 'Lee' }] });
  await p('bp', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }] }, effectiveDateTime: '2024-03-05T10:00:00Z', component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 140, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 90, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ] });
  await p('weight', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }], text: 'Weight' }, valueQuantity: { value: 5.4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }, effectivePeriod: { start: '2024-03-01', end: '2024-03-10' } });
  await p('hr', { resourceType: 'Observation', status: 'preliminary', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] }, valueQuantity: { value: 72, unit: 'beats/min', system: 'http://unitsofmeasure.org', code: '/min' }, effectiveDateTime: '2023-12-31' });
  await p('risk', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${r.eve.id}` }, prediction: [{ probabilityDecimal: 0.85 }] });
  await p('risk2', { resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${r.eve.id}` }, prediction: [{ probabilityDecimal: 100 }] });
  await p('vs', { resourceType: 'ValueSet', status: 'active', url: 'http://example.org/fhir/ValueSet/vitals', compose: { include: [{ system: 'http://loinc.org', concept: [{ code: '8867-4' }, { code: '29463-7' }] }] } });
  await p('vsAll', { resourceType: 'ValueSet', status: 'active', url: 'http://example.org/fhir/ValueSet/all-loinc', version: '2', compose: { include: [{ system: 'http://loinc.org' }] } });
  await p('sd', { resourceType: 'ValueSet', status: 'draft', url: 'http://acme.org/fhir/ValueSet/a/b' });
  // Lists (_list) and Locations with positions (near)
  await p('list', { resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `Patient/${r.eve.id}` } }, { item: { reference: `Patient/${r.severine.id}` } }, { item: { reference: `Observation/${r.hr.id}` } }] });
  await p('otherList', { resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `Patient/${r.evelyn.id}` } }] });
  await p('goneList', { resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `Patient/${r.evelyn.id}` } }] });
  await fetchJson(`${server.fhir}/List/${r.goneList.id}`, { method: 'DELETE' });
  for (const [key, latitude, longitude] of PLACES) await p(key, { resourceType: 'Location', name: key, position: { latitude, longitude } });
  await p('nowhere', { resourceType: 'Location', name: 'No position' });
});

/** Locations (name, latitude, longitude) for `near`. */
const PLACES: [string, number, number][] = [
  ['randwick', -33.9197, 151.2387],
  ['bondiJunction', -33.8915, 151.2476],
  ['parramatta', -33.815, 151.0011],
  ['melbourne', -37.8136, 144.9631],
  ['fiji', -17.7, 179.99],
];

/** Great-circle distance in km (haversine, mean earth radius), for the boundary tests. */
function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const h = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
}
afterAll(async () => {
  await server?.close();
});

const cases: [string, string, string[]][] = [
  // string: starts-with on the normalised whole value, accents and case never matter
  ['string default', 'Patient?given=eve', ['eve', 'evelyn']],
  ['string accents', 'Patient?family=angstrom', ['eve']],
  ['string accents in query', 'Patient?given=SÉV', ['severine']],
  ['string :contains', 'Patient?given:contains=eve', ['eve', 'evelyn', 'severine']],
  ['string :exact', 'Patient?given:exact=Eve', ['eve']],
  ['string :exact is case-sensitive', 'Patient?given:exact=eve', []],
  ['string whole value, not each word', 'Organization?name=randwick', []],
  ['string multiword prefix', 'Organization?name=royal rand', ['rrh']],
  ['string OR', 'Organization?name=bondi,royal p', ['bondi', 'rpa']],
  ['string AND', 'Patient?given=eve&family=smi', ['evelyn']],
  ['string :missing', 'Patient?name:missing=true', ['noname']],
  ['address city', 'Patient?address-city=randw', ['severine']],
  // name and address read their own rows and those of family/given, address-city...
  ['name by family', 'Patient?name=smi', ['evelyn']],
  ['name by given', 'Patient?name=eve', ['eve', 'evelyn']],
  ['name :exact', 'Patient?name:exact=Smith', ['evelyn']],
  ['name :contains', 'Patient?name:contains=ngstr', ['eve']],
  ['name :missing=false', 'Patient?name:missing=false', ['eve', 'evelyn', 'severine']],
  ['address by city', 'Patient?address=randw', ['severine']],
  ['chain to several types', 'RiskAssessment?subject.name=angst', ['risk', 'risk2']],
  // token
  ['token code', 'Patient?gender=female', ['eve', 'evelyn']],
  ['token system|code', 'Patient?identifier=http://acme.org/patient|2345', ['eve']],
  ['token |code (no system) misses', 'Patient?identifier=|2345', []],
  ['token system|', 'Observation?code=http://loinc.org|', ['bp', 'weight', 'hr']],
  ['token :not', 'Patient?gender:not=female', ['severine', 'noname']],
  ['token :text word prefix', 'Observation?code:text=pressure', ['bp']],
  ['token :text on CodeableConcept.text', 'Observation?code:text=weig', ['weight']],
  ['token :of-type', 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|2345', ['eve']],
  ['token :in', 'Observation?code:in=http://example.org/fhir/ValueSet/vitals', ['weight', 'hr']],
  ['token :in whole system, versioned', 'Observation?code:in=http://example.org/fhir/ValueSet/all-loinc|2', ['bp', 'weight', 'hr']],
  ['token :not-in', 'Observation?code:not-in=http://example.org/fhir/ValueSet/vitals', ['bp']],
  ['token boolean', 'Patient?active=false', ['noname']],
  ['token :missing', 'Patient?active:missing=true', ['evelyn', 'severine']],
  ['_tag', 'Patient?_tag=urn:tags|vip', ['eve']],
  ['_security', 'Patient?_security=R', ['eve']],
  ['_profile', 'Patient?_profile=http://example.org/fhir/StructureDefinition/my-patient', ['eve']],
  ['_source', 'Patient?_source=http://example.org/src%231', ['eve']],
  // date: implicit ranges of partial dates, every prefix
  ['date year', 'Patient?birthdate=1960', ['eve', 'evelyn']],
  ['date month', 'Patient?birthdate=1960-11', ['evelyn']],
  ['date eq day inside a month value misses', 'Patient?birthdate=1960-11-05', []],
  ['date ne', 'Patient?birthdate=ne1960', ['severine']],
  ['date gt', 'Patient?birthdate=gt1960-03-15', ['evelyn', 'severine']],
  ['date ge', 'Patient?birthdate=ge1960-03-15', ['eve', 'evelyn', 'severine']],
  ['date lt', 'Patient?birthdate=lt1960-11', ['eve']],
  ['date le', 'Patient?birthdate=le1960-11', ['eve', 'evelyn']],
  ['date sa', 'Patient?birthdate=sa1960-11', ['severine']],
  ['date eb', 'Patient?birthdate=eb1975', ['eve', 'evelyn']],
  ['date ap (10% of the gap to now)', 'Patient?birthdate=ap1960-03-20', ['eve', 'evelyn']],
  ['date Period overlaps ge', 'Observation?date=ge2024-03-05', ['bp', 'weight']],
  ['date Period eq contains', 'Observation?date=2024-03', ['bp', 'weight']],
  ['date Period eq not contained', 'Observation?date=2024-03-05', ['bp']],
  ['date dateTime lt', 'Observation?date=lt2024', ['hr']],
  ['_lastUpdated', 'Patient?_lastUpdated=gt2000-01-01', ['eve', 'evelyn', 'severine', 'noname']],
  // number, with the implicit precision range
  ['number gt (spec example)', 'RiskAssessment?probability=gt0.8', ['risk', 'risk2']],
  ['number eq precision', 'RiskAssessment?probability=0.85', ['risk']],
  ['number eq 1e2 covers 100', 'RiskAssessment?probability=1e2', ['risk2']],
  ['number lt', 'RiskAssessment?probability=lt1', ['risk']],
  // quantity
  ['quantity spec example', 'Observation?value-quantity=5.4|http://unitsofmeasure.org|mg', ['weight']],
  ['quantity unit only', 'Observation?value-quantity=5.4||mg', ['weight']],
  ['quantity no unit', 'Observation?value-quantity=gt70', ['hr']],
  ['quantity component', 'Observation?component-value-quantity=gt100', ['bp']],
  // composite: all parts must match the same component
  ['composite same component', 'Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100', ['bp']],
  ['composite across components misses', 'Observation?component-code-value-quantity=http://loinc.org|8462-4$gt100', []],
  ['composite code-value-quantity', 'Observation?code-value-quantity=http://loinc.org|8867-4$lt100', ['hr']],
  ['composite combo', 'Observation?combo-code-value-quantity=8462-4$90', ['bp']],
  // uri
  ['uri exact', 'ValueSet?url=http://acme.org/fhir/ValueSet/a/b', ['sd']],
  ['uri :below', 'ValueSet?url:below=http://acme.org/fhir', ['sd']],
  ['uri :above', 'ValueSet?url:above=http://acme.org/fhir/ValueSet/a/b/c/d', ['sd']],
  ['uri :above misses', 'ValueSet?url:above=http://acme.org/fhir', []],
  // _id
  ['_id', 'Patient?_id=EVE', ['eve']],
  // phonetic: Double Metaphone, every word of the query sounds like a word of a name
  ['phonetic family', 'Patient?phonetic=Smyth', ['evelyn']],
  ['phonetic given', 'Patient?phonetic=Evalin', ['evelyn']],
  ['phonetic accents', 'Patient?phonetic=angstrom', ['eve']],
  ['phonetic every word', 'Patient?phonetic=Evelyn Smyth', ['evelyn']],
  ['phonetic all words must match', 'Patient?phonetic=Evelyn Dubois', []],
  ['phonetic is not a prefix', 'Patient?phonetic=Smi', []],
  ['phonetic :exact', 'Patient?phonetic:exact=Smith', ['evelyn']],
  ['phonetic :missing', 'Patient?phonetic:missing=true', ['noname']],
  ['phonetic Practitioner', 'Practitioner?phonetic=Jaksen', ['jackson']],
  ['phonetic Organization word', 'Organization?phonetic=randwik', ['rrh']],
  ['_content ignores phonetic codes', 'Patient?_content=xmtt', []],
  // _list: items of a List (other types, other Lists and deleted Lists select nothing)
  ['_list', 'Patient?_list=LIST', ['eve', 'severine']],
  ['_list List/id', 'Patient?_list=List/LIST', ['eve', 'severine']],
  ['_list other type', 'Observation?_list=LIST', ['hr']],
  ['_list OR', 'Patient?_list=LIST,OTHER', ['eve', 'evelyn', 'severine']],
  ['_list AND', 'Patient?_list=LIST&gender=other', ['severine']],
  ['_list deleted List', 'Patient?_list=GONE', []],
  ['_list unknown List', 'Patient?_list=no-such-list', []],
  // near (Location.position): great-circle distance, km by default
  ['near km', 'Location?near=-33.9197|151.2387|5|km', ['randwick', 'bondiJunction']],
  ['near farther', 'Location?near=-33.9197|151.2387|30|km', ['randwick', 'bondiJunction', 'parramatta']],
  ['near m', 'Location?near=-33.9197|151.2387|5000|m', ['randwick', 'bondiJunction']],
  ['near miles', 'Location?near=-33.9197|151.2387|20|[mi_i]', ['randwick', 'bondiJunction', 'parramatta']],
  ['near default distance (10 km)', 'Location?near=-33.9197|151.2387', ['randwick', 'bondiJunction']],
  ['near across the antimeridian', 'Location?near=-17.7|-179.99|10|km', ['fiji']],
  ['near OR', 'Location?near=-33.9197|151.2387|1|km,-37.8|144.96|5|km', ['randwick', 'melbourne']],
];

describe('parameter types, modifiers and prefixes', () => {
  it.each(cases)('%s: %s', async (_name, query, expected) => {
    const q = query.replace('EVE', () => r.eve.id).replace('LIST', () => r.list.id).replace('OTHER', () => r.otherList.id).replace('GONE', () => r.goneList.id);
    expect(ids(await search(server, q)).sort()).toEqual(expected.map((k) => r[k].id).sort());
  });
});

describe('sorting on a parameter whose values other parameters index', () => {
  it('_sort=name takes the smallest of all name parts, nulls last', async () => {
    // angstrom (Eve Ångström) < dubois (Séverine Dubois) < evelyn (Evelyn Smith); no name last
    expect(ids(await search(server, 'Patient?_sort=name'))).toEqual(['eve', 'severine', 'evelyn', 'noname'].map((k) => r[k].id));
    expect(ids(await search(server, 'Patient?_sort=-name'))).toEqual(['evelyn', 'severine', 'eve', 'noname'].map((k) => r[k].id));
  });

  it('_sort=given reads only the given-name rows', async () => {
    expect(ids(await search(server, 'Patient?_sort=given'))).toEqual(['eve', 'evelyn', 'severine', 'noname'].map((k) => r[k].id));
  });
});

describe('near (Location.position)', () => {
  it('sorts nearest first without _sort', async () => {
    const found = ids(await search(server, 'Location?near=-33.8915|151.2476|800|km'));
    expect(found).toEqual(['bondiJunction', 'randwick', 'parramatta', 'melbourne'].map((k) => r[k].id));
    const byName = ids(await search(server, 'Location?near=-33.8915|151.2476|800|km&_sort=name'));
    expect(byName).toEqual(['bondiJunction', 'melbourne', 'parramatta', 'randwick'].map((k) => r[k].id));
  });

  it('pages nearest first with the keyset cursor', async () => {
    const first = await search(server, 'Location?near=-33.8915|151.2476|800|km&_count=2');
    expect(ids(first)).toEqual([r.bondiJunction.id, r.randwick.id]);
    const next = first.link.find((l: any) => l.relation === 'next').url as string;
    const second = await search(server, next.slice(server.fhir.length + 1));
    expect(ids(second)).toEqual([r.parramatta.id, r.melbourne.id]);
  });

  it('decides at the exact distance, not at the bounding box', async () => {
    // Sydney to Melbourne is ~700 km: a radius just over includes it, just under does not.
    const d = distanceKm(-33.8688, 151.2093, -37.8136, 144.9631);
    const within = (km: number) => search(server, `Location?near=-33.8688|151.2093|${km}|km`).then((b) => ids(b).includes(r.melbourne.id));
    expect(await within(d * 1.001)).toBe(true);
    expect(await within(d * 0.999)).toBe(false);
  });
});

describe('near matches (_content, _text)', () => {
  it.each([
    ['royal rand', ['rrh']],
    ['randwick', ['rrh', 'severine']],
    ['randwik', ['rrh', 'severine']],
    ['ROYAL', ['rrh', 'rpa']],
    ['hospital royal', ['rrh', 'rpa']],
    ['jack', ['jackson', 'jack']],
    ['jacksn', ['jackson']],
  ])('_content=%s', async (q, expected) => {
    const found = ids(await search(server, `?_type=Organization,Practitioner,Patient&_content=${encodeURIComponent(q)}`));
    expect(found.sort()).toEqual(expected.map((k) => r[k].id).sort());
  });

  it('ranks the best match first', async () => {
    const found = ids(await search(server, 'Organization?_content=royal%20randwik'));
    expect(found[0]).toBe(r.rrh.id);
    const jack = ids(await search(server, 'Practitioner?_content=jack'));
    expect(jack[0]).toBe(r.jack.id); // "Jack" exactly beats "Jackson"
  });

  it('_text searches the narrative only', async () => {
    expect(ids(await search(server, 'Patient?_text=coogee'))).toEqual([r.evelyn.id]);
    expect(ids(await search(server, 'Patient?_text=smith'))).toEqual([]);
  });
});

describe('unknown and malformed parameters', () => {
  it('ignores unknown parameters leniently and reports them', async () => {
    const b = await search(server, 'Patient?gender=female&nonsense=1');
    expect(ids(b).sort()).toEqual([r.eve.id, r.evelyn.id].sort());
    const oo = b.entry.find((e: any) => e.search.mode === 'outcome');
    expect(oo.resource.issue[0].details.text).toContain('nonsense');
  });

  it.each([
    ['Patient?nonsense=1', { prefer: 'handling=strict' }],
    ['Patient?birthdate=1960-13', {}],
    ['Patient?birthdate=xx1960', {}],
    ['Patient?birthdate=notadate', {}],
    ['RiskAssessment?probability=abc', {}],
    ['Patient?gender.name=x', {}],
    ['Patient?given:below=x', {}],
    ['Patient?name:missing=maybe', {}],
    ['Observation?code-value-quantity=1', {}],
    ['Observation?code:in=http://nowhere.org/vs', {}],
    ['Patient?_content=', {}],
    ['Patient?phonetic:contains=smi', {}],
    ['Patient?phonetic=123', {}],
    ['Patient?_list=$current-allergies', {}],
    ['Patient?_list:not=x', {}],
    ['Patient?_list=a/b', {}],
    ['Location?near=abc', {}],
    ['Location?near=-91|0', {}],
    ['Location?near=0|181|1|km', {}],
    ['Location?near=0|0|-1|km', {}],
    ['Location?near=0|0|5|furlongs', {}],
    ['Location?near=0|0|5|km|x', {}],
    ['Location?near:missing=true', {}],
  ])('%s → 400', async (query, headers) => {
    const res = await searchStatus(server, query, headers as Record<string, string>);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('CapabilityStatement', () => {
  it('documents near matches and string semantics', async () => {
    const cs = await search(server, 'metadata');
    const org = cs.rest[0].resource.find((x: any) => x.type === 'Organization');
    const content = org.searchParam.find((p: any) => p.name === '_content');
    expect(content.documentation).toContain('trigram');
    expect(org.searchParam.find((p: any) => p.name === 'name').documentation).toContain('starts-with');
    expect(org.searchParam.find((p: any) => p.name === '_list').documentation).toContain('List.entry.item');
    const location = cs.rest[0].resource.find((x: any) => x.type === 'Location');
    expect(location.searchParam.find((p: any) => p.name === 'near').documentation).toContain('nearest first');
  });
});
