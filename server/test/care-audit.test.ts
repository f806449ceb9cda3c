/**
 * The audit trail over HTTP with real tokens: a provider's reads (buffered, durable within one
 * second) and writes (same transaction: there when the response arrives) each leave an
 * AuditEvent naming who, the client app, what, the patient, the action and the source IP; the
 * patient searches their own; admins search all; nobody changes or deletes one.
 */
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';
import { book, clientFor, clinical, writeAs, type Client } from './care-helpers.ts';

let server: TestServer;
let patient: Client;
let otherPatient: Client;
let gp: Client;
let admin: Client;
const ids: Record<string, string> = {};

async function auditFor(entity: string, action?: string): Promise<AuditEvent[]> {
  const res = await admin.get(`AuditEvent?entity=${entity}&_count=100${action ? `&action=${action}` : ''}`);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
}

/** Polls until `entity` has an AuditEvent with `action`; returns it and how long it took (ms). */
async function waitForAudit(entity: string, action: string, limitMs = 3000): Promise<{ event: AuditEvent; ms: number }> {
  const start = performance.now();
  for (;;) {
    const [event] = await auditFor(entity, action);
    if (event) return { event, ms: performance.now() - start };
    if (performance.now() - start > limitMs) throw new Error(`no ${action} AuditEvent for ${entity} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectDescribes(event: AuditEvent, o: { action: string; who: string; what: string; patient: string }): void {
  expect(event.action).toBe(o.action);
  expect(event.outcome).toBe('0');
  expect(Date.now() - Date.parse(event.recorded)).toBeLessThan(60_000);
  const requestor = event.agent.find((a) => a.requestor);
  expect(requestor?.who?.reference).toBe(o.who);
  expect(requestor?.network?.address).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
  const app = event.agent.find((a) => a.who?.identifier?.system === 'urn:oauth:client_id');
  expect(app?.who?.identifier?.value).toBe('charting-app');
  const what = (event.entity ?? []).map((e) => e.what?.reference);
  expect(what).toContain(o.what);
  expect(what).toContain(o.patient);
}

beforeAll(async () => {
  server = await startTestServer({ AUTH_REQUIRED: 'on' });
  [patient, otherPatient, gp, admin] = await Promise.all([
    clientFor(server, 'patient'), clientFor(server, 'patient'), clientFor(server, 'gp'), clientFor(server, 'admin'),
  ]);
  await book(server, patient.user.fhirUser, gp.user.fhirUser);
  await book(server, otherPatient.user.fhirUser, gp.user.fhirUser);
  ids.obs = `Observation/${(await writeAs(server, 'Practitioner/elsewhere', clinical('Observation', patient.user.fhirUser, 'ecg'))).id}`;
  ids.otherObs = `Observation/${(await writeAs(server, 'Practitioner/elsewhere', clinical('Observation', otherPatient.user.fhirUser, 'xray'))).id}`;
});

afterAll(async () => {
  await server?.close();
});

describe('AuditEvents for a provider\'s reads and writes', () => {
  it('a read is recorded within one second: who, app, what, patient, action, source IP', async () => {
    expect(await auditFor(ids.obs, 'R')).toEqual([]);
    const read = await gp.get(ids.obs);
    expect(read.status).toBe(200);
    const { event, ms } = await waitForAudit(ids.obs, 'R');
    expect(ms).toBeLessThan(1000);
    expectDescribes(event, { action: 'R', who: gp.user.fhirUser, what: ids.obs, patient: patient.user.fhirUser });
  });

  it('a search is recorded with every patient record it returned', async () => {
    const res = await gp.get(`Observation?patient=${otherPatient.user.fhirUser}`);
    expect(res.status).toBe(200);
    const { event } = await waitForAudit(ids.otherObs, 'R');
    expectDescribes(event, { action: 'R', who: gp.user.fhirUser, what: ids.otherObs, patient: otherPatient.user.fhirUser });
    expect(event.subtype?.[0]?.code).toBe('search-type');
  });

  it('a write is recorded in its own transaction: there as soon as the response is', async () => {
    const created = await gp.post('Condition', clinical('Condition', patient.user.fhirUser, 'asthma'));
    expect(created.status).toBe(201);
    const ref = `Condition/${created.body.id}`;
    const [event] = await auditFor(ref, 'C');
    expect(event, 'create audited before the response').toBeDefined();
    expectDescribes(event, { action: 'C', who: gp.user.fhirUser, what: ref, patient: patient.user.fhirUser });
    const updated = await gp.put(ref, { ...created.body, note: [{ text: 'mild' }] });
    expect(updated.status).toBe(200);
    const [update] = await auditFor(ref, 'U');
    expectDescribes(update, { action: 'U', who: gp.user.fhirUser, what: ref, patient: patient.user.fhirUser });
  });

  it('a refused read leaves no record of the patient\'s data being disclosed', async () => {
    const stranger = await clientFor(server, 'gp');
    expect((await stranger.get(ids.obs)).status).toBe(404);
    await server.app.care.audit.flush();
    const events = await auditFor(ids.obs, 'R');
    expect(events.map((e) => e.agent.find((a) => a.requestor)?.who?.reference)).not.toContain(stranger.user.fhirUser);
  });
});

describe('who may see and change AuditEvents', () => {
  it('the patient searches their own, and only their own', async () => {
    await server.app.care.audit.flush();
    const mine = await patient.get(`AuditEvent?patient=${patient.user.fhirUser}&_count=100`);
    expect(mine.status).toBe(200);
    const events = ((mine.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) expect(e.entity?.map((x) => x.what?.reference)).toContain(patient.user.fhirUser);
    expect(events.some((e) => e.agent.some((a) => a.who?.reference === gp.user.fhirUser))).toBe(true);
    const theirs = await patient.get(`AuditEvent?patient=${otherPatient.user.fhirUser}&_total=accurate`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.total).toBe(0);
    const all = await patient.get('AuditEvent?_count=500');
    for (const e of ((all.body as Bundle).entry ?? []).map((x) => x.resource as AuditEvent)) {
      expect(e.entity?.map((x) => x.what?.reference)).toContain(patient.user.fhirUser);
    }
  });

  it('admins search all of them', async () => {
    await server.app.care.audit.flush();
    const res = await admin.get('AuditEvent?_count=500&_total=accurate');
    expect(res.status).toBe(200);
    const events = ((res.body as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
    const patients = new Set(events.flatMap((e) => (e.entity ?? []).map((x) => x.what?.reference)));
    expect(patients).toContain(patient.user.fhirUser);
    expect(patients).toContain(otherPatient.user.fhirUser);
    expect(res.body.total).toBe(events.length);
  });

  it('nobody updates or deletes one, admins included (403)', async () => {
    const [event] = await auditFor(ids.obs, 'R');
    const ref = `AuditEvent/${event.id}`;
    for (const who of [admin, gp, patient]) {
      const put = await who.put(ref, { ...event, outcome: '8' });
      expect(put.status, `PUT by ${who.user.role}`).toBe(403);
      const del = await who.del(ref);
      expect(del.status, `DELETE by ${who.user.role}`).toBe(403);
      const patch = await fetch(`${server.fhir}/${ref}`, {
        method: 'PATCH', headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json-patch+json' },
        body: JSON.stringify([{ op: 'replace', path: '/outcome', value: '8' }]),
      });
      expect(patch.status, `PATCH by ${who.user.role}`).toBe(403);
    }
    const batch = await admin.post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'DELETE', url: ref } }, { request: { method: 'PUT', url: ref }, resource: { ...event, outcome: '8' } }] });
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['403', '403']);
    const after = await admin.get(ref);
    expect(after.status).toBe(200);
    expect(after.body.meta.versionId).toBe('1');
    expect(after.body.outcome).toBe('0');
  });
});
