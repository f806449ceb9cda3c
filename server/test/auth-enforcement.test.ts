/**
 * Access enforcement as a table: role × scopes × interaction → status, each refusal tried for
 * real over HTTP with a real token. Also: batch entries authorized one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { assertion, backendKey, clientCredentialsForm, createResource, createUser, loginForTokens, tokenRequest, type TestUser } from './auth-helpers.ts';

let server: TestServer;
let p1: TestUser;
let p2: TestUser;
/** A GP with an appointment with p2 (CARE: providers see only their patients' records). */
let gp: TestUser;
const ids: Record<string, string> = {};
const tokens = new Map<string, string>();

const lab = (patient: string) => ({
  resourceType: 'Observation', status: 'final', code: { text: 'Hb' }, subject: { reference: patient },
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
});
const vital = (patient: string) => ({ ...lab(patient), category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] });
const answers = (patient: string) => ({ resourceType: 'QuestionnaireResponse', status: 'completed', subject: { reference: patient } });
const encounter = (patient: string) => ({ resourceType: 'Encounter', status: 'planned', class: { code: 'AMB' }, subject: { reference: patient } });

/** A token per row key: `${role}|${scope}` (patients through booking-app, staff through charting-app). */
async function tokenFor(role: string, scope: string): Promise<string> {
  const key = `${role}|${scope}`;
  if (!tokens.has(key)) {
    if (role === 'system') {
      const k = await backendKey('ES384');
      const admin = await tokenFor('admin', 'user/*.cruds');
      const reg = await fetchJson(`${server.url}/oauth/register`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k.publicJwk] }, scope } });
      const t = await tokenRequest(server, clientCredentialsForm(await assertion(server, { ...k, clientId: reg.body.client_id }), scope));
      tokens.set(key, t.body.access_token);
    } else {
      const user = role === 'patient' ? p1 : role === 'gp' ? gp : await createUser(server, role as never);
      const t = await loginForTokens(server, user, { clientId: role === 'patient' ? 'booking-app' : 'charting-app', scope });
      tokens.set(key, t.access_token);
    }
  }
  return tokens.get(key)!;
}

type Row = [role: string, scope: string, method: string, path: () => string, body: (() => unknown) | undefined, status: number];
const R = (role: string, scope: string, method: string, path: () => string, status: number, body?: () => unknown): Row => [role, scope, method, path, body, status];

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  p1 = await createUser(server, 'patient');
  p2 = await createUser(server, 'patient');
  ids.lab1 = (await createResource(server, lab(p1.fhirUser) as any)).id;
  ids.vital1 = (await createResource(server, vital(p1.fhirUser) as any)).id;
  ids.lab2 = (await createResource(server, lab(p2.fhirUser) as any)).id;
  ids.org = (await createResource(server, { resourceType: 'Organization', name: 'Centre' })).id;
  ids.doomed = (await createResource(server, { resourceType: 'Patient', name: [{ family: 'Doomed' }] })).id;
  gp = await createUser(server, 'gp');
  await createResource(server, {
    resourceType: 'Appointment', status: 'booked', start: '2031-03-03T00:00:00Z', end: '2031-03-03T00:30:00Z',
    participant: [{ actor: { reference: p2.fhirUser }, status: 'accepted' }, { actor: { reference: gp.fhirUser }, status: 'accepted' }],
  } as any);
});
afterAll(async () => {
  await server?.close();
});

const rows: Row[] = [
  // patient/ scopes: the token's compartment only
  R('patient', 'patient/*.rs', 'GET', () => p1.fhirUser, 200),
  R('patient', 'patient/*.rs', 'GET', () => p2.fhirUser, 404),
  R('patient', 'patient/*.rs', 'GET', () => `Observation/${ids.lab1}`, 200),
  R('patient', 'patient/*.rs', 'GET', () => `Observation/${ids.lab2}`, 404),
  R('patient', 'patient/*.rs', 'POST', () => 'Observation', 403, () => lab(p1.fhirUser)),
  R('patient', 'patient/*.rs', 'GET', () => `Organization/${ids.org}`, 200),
  R('patient', 'patient/*.read', 'GET', () => `Observation/${ids.lab1}`, 200),
  R('patient', 'patient/*.read', 'GET', () => `Observation/${ids.lab2}`, 404),
  // role cap: a patient may not create Observations even with .cruds; their answers only in their compartment
  R('patient', 'patient/Observation.cruds patient/QuestionnaireResponse.cruds', 'POST', () => 'Observation', 403, () => lab(p1.fhirUser)),
  R('patient', 'patient/Observation.cruds patient/QuestionnaireResponse.cruds', 'POST', () => 'QuestionnaireResponse', 201, () => answers(p1.fhirUser)),
  R('patient', 'patient/Observation.cruds patient/QuestionnaireResponse.cruds', 'POST', () => 'QuestionnaireResponse', 403, () => answers(p2.fhirUser)),
  R('patient', 'patient/Observation.cruds patient/QuestionnaireResponse.cruds', 'GET', () => p1.fhirUser, 403),
  // granular v2 constraints
  R('patient', 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory', 'GET', () => `Observation/${ids.lab1}`, 200),
  R('patient', 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory', 'GET', () => `Observation/${ids.vital1}`, 404),
  R('patient', 'patient/Observation.r', 'GET', () => 'Observation', 403),
  // user/ scopes capped by the role table
  R('gp', 'user/*.cruds', 'GET', () => p2.fhirUser, 200),
  R('gp', 'user/*.cruds', 'POST', () => 'Observation', 201, () => lab(p2.fhirUser)),
  R('gp', 'user/*.cruds', 'DELETE', () => `Observation/${ids.lab2}`, 403),
  // CARE: no appointment with p1, so p1's record is invisible to this GP
  R('gp', 'user/*.cruds', 'GET', () => `Observation/${ids.lab1}`, 404),
  R('gp', 'user/*.cruds', 'POST', () => 'Organization', 403, () => ({ resourceType: 'Organization', name: 'X' })),
  R('gp', 'user/Observation.rs', 'GET', () => p2.fhirUser, 403),
  R('receptionist', 'user/*.cruds', 'GET', () => `Observation/${ids.lab1}`, 403),
  R('receptionist', 'user/*.cruds', 'POST', () => 'Patient', 201, () => ({ resourceType: 'Patient', name: [{ family: 'New' }] })),
  R('receptionist', 'user/*.cruds', 'POST', () => 'Encounter', 201, () => encounter(p2.fhirUser)),
  R('hr', 'user/*.cruds', 'GET', () => p1.fhirUser, 403),
  R('hr', 'user/*.cruds', 'POST', () => 'Organization', 201, () => ({ resourceType: 'Organization', name: 'New centre' })),
  R('pharmacist', 'user/*.cruds', 'POST', () => 'MedicationRequest', 201, () => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { text: 'x' }, subject: { reference: p1.fhirUser } })),
  R('pharmacist', 'user/*.cruds', 'POST', () => 'Observation', 403, () => lab(p1.fhirUser)),
  R('admin', 'user/*.cruds', 'DELETE', () => `Patient/${ids.doomed}`, 200),
  R('admin', 'user/*.cruds', 'GET', () => 'Patient/_history', 200),
  // CARE: admins manage demographics, not clinical entries
  R('admin', 'user/*.cruds', 'GET', () => `Observation/${ids.vital1}`, 404),
  R('gp', 'user/*.cruds', 'GET', () => '_history', 403),
  // system/ scopes for backend services
  R('system', 'system/Observation.rs', 'GET', () => `Observation/${ids.lab1}`, 200),
  R('system', 'system/Observation.rs', 'GET', () => p1.fhirUser, 403),
  R('system', 'system/Observation.rs', 'POST', () => 'Observation', 403, () => lab(p1.fhirUser)),
];

describe('role × scope × interaction', () => {
  it.each(rows.map((r) => [`${r[0]} [${r[1]}] ${r[2]} → ${r[5]}`, r] as const))('%s', async (_name, [role, scope, method, path, body, status]) => {
    const token = await tokenFor(role, scope);
    const res = await fetchJson(`${server.fhir}/${path()}`, { method, body: body?.(), headers: { authorization: `Bearer ${token}` } });
    expect(res.status, JSON.stringify(res.body?.issue?.[0]?.details)).toBe(status);
    if (status === 403) expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('searches leave out what the token may not see', async () => {
    const token = await tokenFor('patient', 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
    const res = await fetchJson(`${server.fhir}/Observation`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.body.entry.map((e: any) => e.resource.id)).toEqual([ids.lab1]);
  });

  it('authorizes each batch entry on its own', async () => {
    const token = await tokenFor('patient', 'patient/*.rs');
    const res = await fetchJson(`${server.fhir}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: { resourceType: 'Bundle', type: 'batch', entry: [
        { request: { method: 'GET', url: p1.fhirUser } },
        { request: { method: 'GET', url: p2.fhirUser } },
        { request: { method: 'POST', url: 'Observation' }, resource: lab(p1.fhirUser) },
      ] },
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['200', '404', '403']);
  });
});
