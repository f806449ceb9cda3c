/** Chains (up to 3 deep), _has (nested, with chains inside), reference forms and _include. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { create, ids, search, searchStatus } from './search-helpers.ts';

let server: TestServer;
const r: Record<string, any> = {};
beforeAll(async () => {
  server = await startTestServer();
  r.org = await create(server, { resourceType: 'Organization', name: 'Royal Randwick Hospital', identifier: [{ system: 'urn:org', value: 'RRH' }] });
  r.otherOrg = await create(server, { resourceType: 'Organization', name: 'Bondi Clinic' });
  r.jackson = await create(server, { resourceType: 'Practitioner', name: [{ family: 'Jackson', given: ['Amy'] }], identifier: [{ system: 'urn:prov', value: 'P-1' }] });
  r.smith = await create(server, { resourceType: 'Practitioner', name: [{ family: 'Smith', given: ['Bob'] }] });
  r.roleJ = await create(server, { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${r.jackson.id}` }, organization: { reference: `Organization/${r.org.id}` } });
  r.roleS = await create(server, { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${r.smith.id}` }, organization: { reference: `Organization/${r.otherOrg.id}` } });
  r.pat1 = await create(server, { resourceType: 'Patient', name: [{ family: 'Nguyen' }], generalPractitioner: [{ reference: `Practitioner/${r.jackson.id}` }] });
  r.pat2 = await create(server, { resourceType: 'Patient', name: [{ family: 'Olsen' }] });
  const appt = (patient: any, role: any, start: string) =>
    create(server, {
      resourceType: 'Appointment',
      status: 'booked',
      start,
      end: start.replace(':00:00', ':30:00'),
      participant: [
        { actor: { reference: `Patient/${patient.id}` }, status: 'accepted' },
        { actor: { reference: `PractitionerRole/${role.id}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${role.practitioner.reference.split('/')[1]}` }, status: 'accepted' },
      ],
    });
  r.a1 = await appt(r.pat1, r.roleJ, '2030-01-10T09:00:00Z');
  r.a2 = await appt(r.pat2, r.roleS, '2030-01-11T09:00:00Z');
  r.a3 = await appt(r.pat2, r.roleJ, '2030-02-01T09:00:00Z');
  r.obs1 = await create(server, { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${r.pat1.id}` }, performer: [{ reference: `Practitioner/${r.smith.id}` }] });
  r.obs2 = await create(server, { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] }, subject: { reference: `Patient/${r.pat2.id}` }, performer: [{ reference: `Practitioner/${r.jackson.id}` }] });
  r.prov = await create(server, { resourceType: 'Provenance', target: [{ reference: `Observation/${r.obs1.id}` }], recorded: '2030-01-01T00:00:00Z', agent: [{ who: { reference: `Practitioner/${r.jackson.id}` } }] });
  r.ident = await create(server, { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { identifier: { system: 'urn:mrn', value: 'MRN-9' } } });
});
afterAll(async () => {
  await server?.close();
});

const sorted = (xs: string[]) => [...xs].sort();

describe('chains', () => {
  it.each([
    ['Appointment?actor:Practitioner.name=jackson', ['a1', 'a3']],
    ['Appointment?actor:Practitioner.name=smith', ['a2']],
    ['Appointment?actor:Practitioner.name=jackson&date=ge2030-01-15', ['a3']],
    ['Appointment?actor:PractitionerRole.practitioner.name=smith', ['a2']],
    // three deep: Appointment → PractitionerRole → Organization (name)
    ['Appointment?actor:PractitionerRole.organization.name=royal', ['a1', 'a3']],
    ['Appointment?actor:PractitionerRole.practitioner:Practitioner.identifier=urn:prov|P-1', ['a1', 'a3']],
    ['Observation?subject:Patient.general-practitioner.name=jack', ['obs1']],
    ['Observation?subject.name=olsen', ['obs2']],
  ])('%s', async (query, expected) => {
    expect(sorted(ids(await search(server, query)))).toEqual(sorted(expected.map((k) => r[k].id)));
  });

  it('refuses chains on non-references, too deep, or to types the reference cannot hold', async () => {
    expect((await searchStatus(server, 'Appointment?status.name=x')).status).toBe(400);
    expect((await searchStatus(server, 'Appointment?actor:PractitionerRole.organization.partof.partof.name=x')).status).toBe(400);
    expect((await searchStatus(server, 'Observation?subject:Medication.code=x')).status).toBe(400);
  });
});

describe('_has', () => {
  it.each([
    ['Patient?_has:Observation:subject:code=8867-4', ['pat1']],
    ['Patient?_has:Appointment:actor:date=ge2030-01-31', ['pat2']],
    // chain inside _has: patients with an observation performed by a Smith
    ['Patient?_has:Observation:subject:performer:Practitioner.name=smith', ['pat1']],
    // nested _has: practitioners who performed an Observation that has a Provenance
    ['Practitioner?_has:Observation:performer:_has:Provenance:target:agent=Practitioner/' + 'JACKSON', ['smith']],
    ['Organization?_has:PractitionerRole:organization:_has:Appointment:actor:date=2030-01-11', ['otherOrg']],
  ])('%s', async (query, expected) => {
    const q = query.replace('JACKSON', r.jackson.id);
    expect(sorted(ids(await search(server, q)))).toEqual(sorted(expected.map((k) => r[k].id)));
  });

  it('refuses malformed _has', async () => {
    expect((await searchStatus(server, 'Patient?_has:Observation:code=1')).status).toBe(400);
    expect((await searchStatus(server, 'Patient?_has:Nope:subject:code=1')).status).toBe(400);
    expect((await searchStatus(server, 'Patient?_has:Observation:status:code=1')).status).toBe(400);
  });
});

describe('reference forms', () => {
  it('matches id, Type/id, our absolute URL, :Type and :identifier', async () => {
    const want = sorted([r.a2.id, r.a3.id]);
    expect(sorted(ids(await search(server, `Appointment?patient=${r.pat2.id}`)))).toEqual(want);
    expect(sorted(ids(await search(server, `Appointment?patient=Patient/${r.pat2.id}`)))).toEqual(want);
    expect(sorted(ids(await search(server, `Appointment?actor=${encodeURIComponent(`${server.fhir}/Patient/${r.pat2.id}`)}`)))).toEqual(want);
    expect(sorted(ids(await search(server, `Appointment?actor:Patient=${r.pat2.id}`)))).toEqual(want);
    expect(ids(await search(server, `Appointment?actor:Practitioner=${r.pat2.id}`))).toEqual([]);
    expect(ids(await search(server, 'Encounter?subject:identifier=urn:mrn|MRN-9'))).toEqual([r.ident.id]);
    expect(ids(await search(server, 'Encounter?subject:missing=false'))).toEqual([]);
    expect(ids(await search(server, 'Encounter?subject:missing=true'))).toEqual([r.ident.id]);
  });
});

describe('_include and _revinclude', () => {
  it('includes practitioners of appointments, with :iterate and *', async () => {
    const b = await search(server, `Appointment?_id=${r.a1.id}&_include=Appointment:actor:Practitioner`);
    const inc = b.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
    expect(inc).toEqual([`Practitioner/${r.jackson.id}`]);
    const it2 = await search(server, `Appointment?_id=${r.a1.id}&_include=Appointment:actor:PractitionerRole&_include:iterate=PractitionerRole:organization`);
    const inc2 = it2.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.resourceType).sort();
    expect(inc2).toEqual(['Organization', 'PractitionerRole']);
    const star = await search(server, `Appointment?_id=${r.a1.id}&_include=*`);
    expect(star.entry.filter((e: any) => e.search.mode === 'include').length).toBe(3);
    const rev = await search(server, `Patient?_id=${r.pat1.id}&_revinclude=Observation:subject`);
    expect(rev.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id)).toEqual([r.obs1.id]);
  });
});

describe('system search and compartments', () => {
  it('searches several types with _type', async () => {
    const b = await search(server, '?_type=Practitioner,Organization&_count=100');
    expect(sorted(ids(b))).toEqual(sorted([r.jackson.id, r.smith.id, r.org.id, r.otherOrg.id]));
    const named = await search(server, '?_type=Practitioner,Patient&name=olsen,smith');
    expect(sorted(ids(named))).toEqual(sorted([r.smith.id, r.pat2.id]));
    // gender is not a parameter of Organization: ignored for both types, and reported
    const lenient = await search(server, '?_type=Patient,Organization&gender=male&_count=100');
    expect(ids(lenient).length).toBe(4);
    expect((await searchStatus(server, '?_type=Patient,Organization&gender=male', { prefer: 'handling=strict' })).status).toBe(400);
  });

  it('searches a patient compartment', async () => {
    expect(sorted(ids(await search(server, `Patient/${r.pat2.id}/Appointment`)))).toEqual(sorted([r.a2.id, r.a3.id]));
  });
});
