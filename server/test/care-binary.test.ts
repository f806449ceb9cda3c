/**
 * Binary files and their securityContext, over HTTP with real tokens: a Binary that names the
 * record it belongs to (a DocumentReference, a Patient) is exactly as visible as that record —
 * to a GP only while a care grant exists, never to an admin for a clinical record — in reads,
 * searches and includes; one that names nothing stays visible as before; nobody may tie a new
 * Binary to a record they cannot see.
 */
import type { Binary, DocumentReference } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResource, createUser, type TestUser } from './auth-helpers.ts';
import { book, cancel, clientFor, clinical, refsIn, writeAs, type Client } from './care-helpers.ts';
import { startTestServer, type TestServer } from './server.ts';

let server: TestServer;
let gp: Client;
let admin: Client;
let seen: TestUser; // booked with the GP
let unseen: TestUser; // never booked with the GP
const id: Record<string, string> = {};

const binary = (securityContext?: string): Binary => ({
  resourceType: 'Binary', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4 report').toString('base64'),
  ...(securityContext ? { securityContext: { reference: securityContext } } : {}),
});

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  [gp, admin] = await Promise.all([clientFor(server, 'gp'), clientFor(server, 'admin')]);
  seen = await createUser(server, 'patient', { name: 'Seen Patient' });
  unseen = await createUser(server, 'patient', { name: 'Unseen Patient' });
  id.appointment = (await book(server, seen.fhirUser, gp.user.fhirUser)).id;
  const other = `Practitioner/${(await createResource(server, { resourceType: 'Practitioner', name: [{ text: 'Dr Elsewhere' }] })).id}`;
  id.seenDoc = (await writeAs(server, other, clinical('DocumentReference', seen.fhirUser, 'X-ray report') as DocumentReference)).id;
  id.unseenDoc = (await writeAs(server, other, clinical('DocumentReference', unseen.fhirUser, 'X-ray report') as DocumentReference)).id;
  id.ofSeenDoc = (await createResource(server, binary(`DocumentReference/${id.seenDoc}`))).id;
  id.ofUnseenDoc = (await createResource(server, binary(`DocumentReference/${id.unseenDoc}`))).id;
  id.ofUnseenPatient = (await createResource(server, binary(unseen.fhirUser))).id;
  id.ofNothing = (await createResource(server, binary())).id;
  id.unresolvable = (await createResource(server, binary('https://elsewhere.example/fhir/DocumentReference/1'))).id;
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const all = () => [id.ofSeenDoc, id.ofUnseenDoc, id.ofUnseenPatient, id.ofNothing, id.unresolvable];

describe('Binary securityContext', () => {
  it('lets a GP read a file of a granted patient\'s record and of no record, and nothing else (404, as if missing)', async () => {
    expect((await gp.get(`Binary/${id.ofSeenDoc}`)).status).toBe(200);
    expect((await gp.get(`Binary/${id.ofNothing}`)).status).toBe(200);
    for (const hidden of [id.ofUnseenDoc, id.ofUnseenPatient, id.unresolvable]) {
      const res = await gp.get(`Binary/${hidden}`);
      expect(res.status, hidden).toBe(404);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const found = await gp.get(`Binary?_id=${all().join(',')}&_total=accurate`);
    expect(found.status).toBe(200);
    expect(refsIn(found.body, 'match').sort()).toEqual([`Binary/${id.ofSeenDoc}`, `Binary/${id.ofNothing}`].sort());
    expect(found.body.total).toBe(2);
  });

  it('keeps files of clinical records from admins, who do not see those records', async () => {
    expect((await admin.get(`Binary/${id.ofSeenDoc}`)).status).toBe(404);
    expect((await admin.get(`Binary/${id.ofNothing}`)).status).toBe(200);
    // The Patient itself admins do see: so too its file.
    expect((await admin.get(`Binary/${id.ofUnseenPatient}`)).status).toBe(200);
  });

  it('refuses to tie a new Binary to a record the caller cannot see, and accepts one it can', async () => {
    const refused = await gp.post('Binary', binary(`DocumentReference/${id.unseenDoc}`));
    expect(refused.status).toBe(404);
    expect(JSON.stringify(refused.body)).toContain(`DocumentReference/${id.unseenDoc} not found`);
    const ok = await gp.post('Binary', binary(`DocumentReference/${id.seenDoc}`));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('takes the file away with the grant: once the only appointment is cancelled, 404', async () => {
    const appointment = (await server.database.db.query<{ content: string }>(`SELECT content FROM resource WHERE type = 'Appointment' AND id = $1`, [id.appointment])).rows[0];
    await cancel(server, JSON.parse(appointment.content));
    expect((await gp.get(`Binary/${id.ofSeenDoc}`)).status).toBe(404);
    expect((await gp.get(`Binary/${id.ofNothing}`)).status).toBe(200);
  });
});
