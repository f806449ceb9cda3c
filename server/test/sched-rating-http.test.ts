/**
 * Ratings over HTTP with real patient tokens (SMART login): a patient who had an appointment posts
 * a rating (Basic) of their provider; the role-policy lets patients create Basic in their own
 * compartment only, and the scheduling rules still apply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Basic } from '@medplum/fhirtypes';
import { RATING_CODE_SYSTEM, RATING_COMMENT_URL, RATING_SCORE_URL, RATING_SUMMARY_URL } from '../src/scheduling/ratings.ts';
import { createUser, loginForTokens, type TestUser } from './auth-helpers.ts';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { appointmentFor, buildClinic, pastSlot, repoAs, type Clinic } from './sched-fixtures.ts';

let server: TestServer;
let c: Clinic;
let visitor: TestUser;
let stranger: TestUser;
const tokens = new Map<string, string>();
const SCOPE = 'openid fhirUser patient/Basic.crs patient/Practitioner.rs patient/Organization.rs';

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  c = await buildClinic(server.database.db, 0);
  visitor = await createUser(server, 'patient');
  stranger = await createUser(server, 'patient');
  await visit(visitor.fhirUser.split('/')[1]);
  for (const u of [visitor, stranger]) tokens.set(u.fhirUser, (await loginForTokens(server, u, { scope: SCOPE })).access_token);
}, 120_000);
afterAll(async () => {
  await server?.close();
});

/** A past appointment with the GP (history is written by the platform). */
async function visit(patient: string): Promise<void> {
  const slot = await pastSlot(server.database.db, c.gpRole);
  await repoAs(server.database.db).create({ ...appointmentFor(slot, patient), status: 'fulfilled' });
}

const rating = (author: string, subject: string, score: number, comment?: string): Basic => ({
  resourceType: 'Basic', meta: { profile: ['https://fhir.clinic.example/StructureDefinition/rating'] },
  code: { coding: [{ system: RATING_CODE_SYSTEM, code: 'rating' }] }, subject: { reference: subject }, author: { reference: author },
  extension: [{ url: RATING_SCORE_URL, valueInteger: score }, ...(comment ? [{ url: RATING_COMMENT_URL, valueString: comment }] : [])],
});

const as = (u: TestUser) => ({ authorization: `Bearer ${tokens.get(u.fhirUser)}` });
const summaryOf = (r: any) => {
  const ext = r.extension?.find((e: any) => e.url === RATING_SUMMARY_URL);
  return ext && Object.fromEntries(ext.extension.map((e: any) => [e.url, e.valueDecimal ?? e.valueInteger]));
};

describe('a patient rates over HTTP', () => {
  it('posts a rating of a provider they saw (201); the provider\'s reads carry the new average', async () => {
    const res = await fetchJson(`${server.fhir}/Basic`, { method: 'POST', headers: as(visitor), body: rating(visitor.fhirUser, `Practitioner/${c.gp}`, 4, 'Explained everything clearly.') });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ resourceType: 'Basic', author: { reference: visitor.fhirUser } });
    const gp = await fetchJson(`${server.fhir}/Practitioner/${c.gp}`, { headers: as(visitor) });
    expect(gp.status).toBe(200);
    expect(summaryOf(gp.body)).toEqual({ average: 4, count: 1, total: 4 });
    // Their latest rating is the one that counts.
    expect((await fetchJson(`${server.fhir}/Basic`, { method: 'POST', headers: as(visitor), body: rating(visitor.fhirUser, `PractitionerRole/${c.gpRole}`, 2) })).status).toBe(201);
    expect(summaryOf((await fetchJson(`${server.fhir}/Practitioner/${c.gp}`, { headers: as(visitor) })).body)).toEqual({ average: 2, count: 1, total: 2 });
    // And they can find their own ratings again.
    const mine = await fetchJson(`${server.fhir}/Basic?author=${visitor.fhirUser}`, { headers: as(visitor) });
    expect(mine.status).toBe(200);
    expect(mine.body.entry).toHaveLength(2);
  });

  it('refuses a rating in another patient\'s name (their compartment) and one from a patient who never visited', async () => {
    const forged = await fetchJson(`${server.fhir}/Basic`, { method: 'POST', headers: as(stranger), body: rating(visitor.fhirUser, `Practitioner/${c.gp}`, 1) });
    expect(forged.status).toBe(403);
    expect(forged.body.resourceType).toBe('OperationOutcome');
    const never = await fetchJson(`${server.fhir}/Basic`, { method: 'POST', headers: as(stranger), body: rating(stranger.fhirUser, `Practitioner/${c.gp}`, 1) });
    expect(never.status).toBe(422);
    expect(never.body.issue[0].details.text).toMatch(/had an appointment/);
    expect(summaryOf((await fetchJson(`${server.fhir}/Practitioner/${c.gp}`, { headers: as(visitor) })).body)).toEqual({ average: 2, count: 1, total: 2 });
  });

  it('needs a token whose scopes grant Basic create', async () => {
    const readOnly = (await loginForTokens(server, visitor, { scope: 'openid fhirUser patient/*.rs' })).access_token;
    const res = await fetchJson(`${server.fhir}/Basic`, { method: 'POST', headers: { authorization: `Bearer ${readOnly}` }, body: rating(visitor.fhirUser, `Practitioner/${c.gp}`, 5) });
    expect(res.status).toBe(403);
    expect((await fetchJson(`${server.fhir}/Basic`, { method: 'POST', body: rating(visitor.fhirUser, `Practitioner/${c.gp}`, 5) })).status).toBe(401);
  });
});
