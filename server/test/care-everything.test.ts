/**
 * `Patient/{id}/$everything` over HTTP with real tokens: the Patient, its compartment and the
 * directory resources they refer to — exactly what the caller may see; `_type`, `_since`,
 * `_count` with next links, GET and POST.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { createResource } from './auth-helpers.ts';
import { book, clientFor, clinical, refsIn, writeAs, type Client } from './care-helpers.ts';

let server: TestServer;
let tony: Client;
let jack: Client;
let stranger: Client;
let pharmacist: Client;
let receptionist: Client;
const ids: Record<string, string> = {};
/** Everything of Tony's compartment that a granted provider should get. */
let tonyMembers: string[] = [];

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  [tony, jack, stranger, pharmacist, receptionist] = await Promise.all([
    clientFor(server, 'patient', { name: 'Tony Stark' }),
    clientFor(server, 'gp', { name: 'Jack Jackson' }),
    clientFor(server, 'gp', { name: 'Never Visited' }),
    clientFor(server, 'pharmacist'),
    clientFor(server, 'receptionist'),
  ]);
  const mia = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Wong', given: ['Mia'] }] });
  const org = await createResource(server, { resourceType: 'Organization', name: 'Centre A' });
  const location = await createResource(server, { resourceType: 'Location', name: 'Centre A rooms', managingOrganization: { reference: ref(org) } });
  const role = await createResource(server, { resourceType: 'PractitionerRole', practitioner: { reference: jack.user.fhirUser }, organization: { reference: ref(org) }, location: [{ reference: ref(location) }] });
  ids.org = ref(org);
  ids.location = ref(location);
  ids.role = ref(role);
  const appt = await book(server, tony.user.fhirUser, jack.user.fhirUser, [role, location]);
  const other = 'Practitioner/' + (await createResource(server, { resourceType: 'Practitioner', name: [{ family: 'Other' }] })).id;
  ids.other = other;
  const entries = [
    await writeAs(server, other, { ...clinical('Observation', tony.user.fhirUser, 'blood pressure'), performer: [{ reference: other }] } as Resource),
    await writeAs(server, other, clinical('Condition', tony.user.fhirUser, 'hypertension')),
    await writeAs(server, other, { ...clinical('MedicationRequest', tony.user.fhirUser, 'amlodipine'), requester: { reference: other } } as Resource),
    await writeAs(server, other, { ...clinical('Encounter', tony.user.fhirUser), serviceProvider: { reference: ref(org) } } as Resource),
    await writeAs(server, other, clinical('DocumentReference', tony.user.fhirUser, 'letter')),
  ];
  ids.miaObs = ref(await writeAs(server, other, clinical('Observation', `Patient/${mia.id}`, 'weight')));
  const consents = await tony.get(`Consent?patient=${tony.user.fhirUser}`);
  tonyMembers = [tony.user.fhirUser, ref(appt), ...entries.map(ref), ...refsIn(consents.body)];
});

afterAll(async () => {
  await server?.close();
});

describe('Patient/$everything', () => {
  it('gives a granted provider the whole compartment and the directory resources it refers to', async () => {
    const res = await jack.get(`${tony.user.fhirUser}/$everything`);
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('searchset');
    expect(refsIn(bundle, 'match').sort()).toEqual([...tonyMembers].sort());
    expect(bundle.total).toBe(tonyMembers.length);
    // Referenced directory data: the Practitioners, the role, the organisation and the location.
    expect(refsIn(bundle, 'include').sort()).toEqual([jack.user.fhirUser, ids.other, ids.role, ids.org, ids.location].sort());
    expect(refsIn(bundle)).not.toContain(ids.miaObs);
    expect(refsIn(bundle).some((r) => r.startsWith('AuditEvent/'))).toBe(false);
  });

  it('answers a provider without a grant exactly as for a patient that does not exist', async () => {
    const invisible = await stranger.get(`${tony.user.fhirUser}/$everything`);
    const missing = await stranger.get('Patient/no-such-patient/$everything');
    expect(invisible.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(invisible.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(invisible.body)).not.toContain('Tony');
    const viaPost = await stranger.post(`${tony.user.fhirUser}/$everything`, { resourceType: 'Parameters', parameter: [] });
    expect(viaPost.status).toBe(404);
  });

  it('gives the patient their own record', async () => {
    const res = await tony.get(`${tony.user.fhirUser}/$everything`);
    expect(res.status).toBe(200);
    expect(refsIn(res.body, 'match').sort()).toEqual([...tonyMembers].sort());
  });

  it('leaves out what a role may not see (pharmacist: medication; receptionist: no clinical notes)', async () => {
    const medication = tonyMembers.filter((r) => r.startsWith('MedicationRequest/'));
    const forPharmacist = await pharmacist.get(`${tony.user.fhirUser}/$everything`);
    expect(forPharmacist.status).toBe(200);
    expect(refsIn(forPharmacist.body, 'match').sort()).toEqual([tony.user.fhirUser, ...medication].sort());
    const forReception = await receptionist.get(`${tony.user.fhirUser}/$everything`);
    expect(forReception.status).toBe(200);
    const seen = refsIn(forReception.body, 'match');
    expect(seen).toContain(tony.user.fhirUser);
    expect(seen.some((r) => r.startsWith('Appointment/'))).toBe(true);
    expect(seen.filter((r) => /^(Observation|Condition|MedicationRequest|DocumentReference|Encounter)\//.test(r))).toEqual([]);
    expect(forReception.body.total).toBe(seen.length);
  });

  it('_type limits the types, by GET or POST Parameters', async () => {
    const wanted = tonyMembers.filter((r) => /^(Observation|Condition)\//.test(r)).sort();
    const get = await jack.get(`${tony.user.fhirUser}/$everything?_type=Observation,Condition`);
    expect(refsIn(get.body).sort()).toEqual(wanted);
    const post = await jack.post(`${tony.user.fhirUser}/$everything`, {
      resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Observation' }, { name: '_type', valueString: 'Condition' }],
    });
    expect(post.status).toBe(200);
    expect(refsIn(post.body).sort()).toEqual(wanted);
    expect((await jack.get(`${tony.user.fhirUser}/$everything?_type=Nonsense`)).status).toBe(400);
  });

  it('_since returns only what changed since', async () => {
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const created = await jack.post('Observation', clinical('Observation', tony.user.fhirUser, 'pulse'));
    expect(created.status).toBe(201);
    const res = await jack.get(`${tony.user.fhirUser}/$everything?_since=${encodeURIComponent(since)}`);
    expect(res.status).toBe(200);
    expect(refsIn(res.body, 'match')).toEqual([`Observation/${created.body.id}`]);
    tonyMembers.push(`Observation/${created.body.id}`);
    expect((await jack.get(`${tony.user.fhirUser}/$everything?_since=yesterday`)).status).toBe(400);
  });

  it('pages with _count and next links, each resource once', async () => {
    const first = await jack.get(`${tony.user.fhirUser}/$everything?_count=3`);
    expect(first.status).toBe(200);
    const seen: string[] = [];
    let page: Bundle = first.body;
    let pages = 0;
    for (;;) {
      pages++;
      const matches = refsIn(page, 'match');
      expect(matches.length).toBeLessThanOrEqual(3);
      seen.push(...matches);
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      if (!next) break;
      const res = await jack.url(next);
      expect(res.status).toBe(200);
      page = res.body;
    }
    expect(pages).toBe(Math.ceil(tonyMembers.length / 3));
    expect(seen.sort()).toEqual([...tonyMembers].sort());
  });

  it('a paging link is no way in for someone without a grant', async () => {
    const first = await jack.get(`${tony.user.fhirUser}/$everything?_count=2`);
    const next = (first.body as Bundle).link?.find((l) => l.relation === 'next')?.url as string;
    expect(next).toBeTruthy();
    expect((await stranger.url(next)).status).toBe(404);
  });
});
