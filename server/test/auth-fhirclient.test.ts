/**
 * SMART's own JS client (fhirclient, Node adapter) against our server: a standalone patient
 * launch and an EHR practitioner launch, each with a refresh and a patient-compartment read.
 * The login pages are driven by the scripted form browser; fhirclient does everything else
 * (discovery, PKCE, state, code exchange, refresh).
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { createResource, createUser, loginAt, loginForTokens } from './auth-helpers.ts';

const require = createRequire(import.meta.url);
// The Node entry of fhirclient: smart(request, response, storage).
const smart = require('fhirclient') as (req: unknown, res: unknown, storage: unknown) => {
  authorize(o: Record<string, unknown>): Promise<string | void>;
  ready(): Promise<any>;
};

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
});
afterAll(async () => {
  await server?.close();
});

/** What fhirclient needs of a Node request: url, host header and socket. */
function request(url: string) {
  const u = new URL(url);
  return { url: u.pathname + u.search, headers: { host: u.host }, socket: {} };
}
const response = { writeHead() { throw new Error('unexpected redirect'); }, end() {} };
function memoryStorage() {
  const m = new Map<string, unknown>();
  return {
    get: async (k: string) => m.get(k),
    set: async (k: string, v: unknown) => (m.set(k, v), v),
    unset: async (k: string) => m.delete(k),
  };
}

describe('fhirclient (SMART JS client, Node adapter)', () => {
  it('standalone patient launch: login, patient-compartment read, refresh', async () => {
    const user = await createUser(server, 'patient');
    const patientId = user.fhirUser.split('/')[1];
    await createResource(server, { resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: user.fhirUser } });
    const other = await createUser(server, 'patient');
    await createResource(server, { resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: other.fhirUser } });

    const storage = memoryStorage();
    const redirectUri = `${server.url}/apps/booking/`;
    const authorizeUrl = await smart(request(`${server.url}/apps/booking/launch.html`), response, storage).authorize({
      iss: server.fhir, clientId: 'booking-app', scope: 'openid fhirUser launch/patient patient/*.rs offline_access',
      redirectUri, noRedirect: true, pkceMode: 'required',
    });
    expect(String(authorizeUrl)).toMatch(/code_challenge_method=S256/);
    const back = await loginAt(server, user, String(authorizeUrl));
    const client = await smart(request(back.toString()), response, storage).ready();

    expect(client.patient.id).toBe(patientId);
    expect(client.user.fhirUser).toBe(user.fhirUser);
    expect((await client.patient.read()).id).toBe(patientId);
    const obs = await client.patient.request('Observation', { flat: true });
    expect(obs).toHaveLength(1);
    expect(obs[0].subject.reference).toBe(user.fhirUser);
    await expect(client.request(other.fhirUser)).rejects.toThrow(/404/);

    const before = client.state.tokenResponse.access_token;
    await client.refresh();
    expect(client.state.tokenResponse.access_token).not.toBe(before);
    expect((await client.patient.read()).id).toBe(patientId);
  });

  it('EHR practitioner launch: launch id from the server, patient and encounter context, refresh', async () => {
    const patient = await createResource(server, { resourceType: 'Patient', name: [{ text: 'Ehr Patient' }] });
    const encounter = await createResource(server, { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' }, subject: { reference: `Patient/${patient.id}` } });
    await createResource(server, { resourceType: 'Condition', subject: { reference: `Patient/${patient.id}` }, code: { text: 'Asthma' } });
    const gp = await createUser(server, 'gp');
    // CARE: the GP sees this patient's record because the patient booked with them.
    await createResource(server, {
      resourceType: 'Appointment', status: 'booked', start: '2031-05-01T00:00:00Z', end: '2031-05-01T00:30:00Z',
      participant: [{ actor: { reference: `Patient/${patient.id}` }, status: 'accepted' }, { actor: { reference: gp.fhirUser }, status: 'accepted' }],
    } as never);

    // The charting app (signed in as the GP) asks the server for a launch context.
    const charting = (await loginForTokens(server, gp, { clientId: 'charting-app', scope: 'openid fhirUser user/*.rs' })).access_token;
    const launch = await fetchJson(`${server.url}/oauth/launch`, {
      method: 'POST', headers: { authorization: `Bearer ${charting}`, 'content-type': 'application/json' }, body: { patient: patient.id, encounter: encounter.id },
    });
    expect(launch.status).toBe(201);

    const storage = memoryStorage();
    const launchUrl = `${server.url}/apps/charting/launch.html?iss=${encodeURIComponent(server.fhir)}&launch=${launch.body.launch}`;
    const authorizeUrl = await smart(request(launchUrl), response, storage).authorize({
      clientId: 'charting-app', scope: 'launch openid fhirUser patient/*.rs user/*.rs online_access',
      redirectUri: `${server.url}/apps/charting/`, noRedirect: true, pkceMode: 'required',
    });
    expect(String(authorizeUrl)).toContain(`launch=${launch.body.launch}`);
    const back = await loginAt(server, gp, String(authorizeUrl));
    const client = await smart(request(back.toString()), response, storage).ready();

    expect(client.patient.id).toBe(patient.id);
    expect(client.encounter.id).toBe(encounter.id);
    expect(client.user.fhirUser).toBe(gp.fhirUser);
    const conditions = await client.patient.request('Condition', { flat: true });
    expect(conditions.map((c: any) => c.code.text)).toEqual(['Asthma']);
    await client.refresh();
    expect((await client.encounter.read()).id).toBe(encounter.id);
  });
});
