/**
 * Batch and transaction Bundles over HTTP: atomicity, the spec's processing order, urn:uuid
 * full URLs, conditional references, ifNoneExist, and independent batch entries.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const SYS = 'urn:test:bundle';
let serial = 0;
const uniq = () => `${process.pid}-${Date.now()}-${++serial}`;
const patient = (value: string, family = 'Bundle') => ({ resourceType: 'Patient', identifier: [{ system: SYS, value }], name: [{ family }] });
const observation = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: subject } });
const urn = () => `urn:uuid:${randomUUID()}`;

function bundle(type: 'batch' | 'transaction', entry: unknown[]) {
  return { resourceType: 'Bundle', type, entry };
}
const post = (body: unknown, path = '') => fetchJson(`${server.fhir}${path}`, { method: 'POST', body });
const get = (path: string) => fetchJson(`${server.fhir}/${path}`);
/** The id part of a response location such as ".../Patient/abc/_history/1". */
const idOf = (location: string) => location.split('/').slice(-3)[0];

async function countByIdentifier(value: string): Promise<number> {
  const res = await get(`Patient?identifier=${SYS}|${value}&_total=accurate`);
  return res.body.total ?? res.body.entry?.length ?? 0;
}

describe('transaction', () => {
  it('creates resources with urn:uuid full URLs resolved, whatever their order, at POST /fhir and /fhir/', async () => {
    for (const path of ['', '/']) {
      const p = urn();
      const value = uniq();
      const res = await post(bundle('transaction', [
        { fullUrl: urn(), resource: observation(p), request: { method: 'POST', url: 'Observation' } },
        { fullUrl: p, resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      ]), path);
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      const [obsEntry, patEntry] = res.body.entry;
      expect(obsEntry.response.status).toMatch(/^201/);
      expect(patEntry.response.status).toMatch(/^201/);
      const patientId = idOf(patEntry.response.location);
      const obs = await get(`Observation/${idOf(obsEntry.response.location)}`);
      expect(obs.body.subject.reference).toBe(`Patient/${patientId}`);
      expect((await get(`Patient/${patientId}`)).body.identifier[0].value).toBe(value);
    }
  });

  it('resolves a PUT entry\'s full URL to its url, and absolute full URLs of existing resources', async () => {
    const id = `put-${uniq()}`;
    const p = urn();
    const res = await post(bundle('transaction', [
      { fullUrl: p, resource: { ...patient(uniq()), id }, request: { method: 'PUT', url: `Patient/${id}` } },
      { fullUrl: urn(), resource: observation(p), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(res.status).toBe(200);
    const obs = await get(`Observation/${idOf(res.body.entry[1].response.location)}`);
    expect(obs.body.subject.reference).toBe(`Patient/${id}`);
  });

  it('accepts request.url given as an absolute URL under the FHIR base, for every method', async () => {
    const id = `abs-${uniq()}`;
    const p = urn();
    const res = await post(bundle('transaction', [
      { fullUrl: p, resource: patient(uniq()), request: { method: 'POST', url: `${server.fhir}/Patient` } },
      { fullUrl: `${server.fhir}/Patient/${id}`, resource: { ...patient(uniq()), id }, request: { method: 'PUT', url: `${server.fhir}/Patient/${id}` } },
      { fullUrl: urn(), resource: observation(p), request: { method: 'POST', url: `${server.fhir}/Observation` } },
      { request: { method: 'GET', url: `${server.fhir}/Patient/${id}` } },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['201', '201', '201', '200']);
    const obs = await get(`Observation/${idOf(res.body.entry[2].response.location)}`);
    expect(obs.body.subject.reference).toBe(`Patient/${idOf(res.body.entry[0].response.location)}`);
  });

  it('refuses a big transaction (validated on worker threads) for its first invalid entry, saving nothing', async () => {
    const value = uniq();
    const entries = Array.from({ length: 60 }, (_, i) => {
      const p = patient(`${value}-${i}`);
      if (i === 41) return { fullUrl: urn(), resource: { ...p, gender: 'sometimes' }, request: { method: 'POST', url: 'Patient' } };
      if (i === 50) return { fullUrl: urn(), resource: { ...p, active: 'yes' }, request: { method: 'POST', url: 'Patient' } };
      return { fullUrl: urn(), resource: p, request: { method: 'POST', url: 'Patient' } };
    });
    const res = await post(bundle('transaction', entries));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Patient.gender']);
    expect((await get(`Patient?identifier=${SYS}|${value}-0&_total=accurate`)).body.total).toBe(0);
    // Without the invalid entries the same bundle goes in whole.
    const valid = entries.filter((_, i) => i !== 41 && i !== 50);
    const ok = await post(bundle('transaction', valid));
    expect(ok.status).toBe(200);
    expect(ok.body.entry.every((e: any) => e.response.status.startsWith('201'))).toBe(true);
  });

  it('is atomic: one failing entry rolls back every other entry, deletes included', async () => {
    const keep = (await post(patient(uniq()), '/Patient')).body;
    const value = uniq();
    const res = await post(bundle('transaction', [
      { fullUrl: urn(), resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'DELETE', url: `Patient/${keep.id}` } },
      { resource: { ...keep, active: true }, request: { method: 'PUT', url: `Patient/${keep.id}` } },
      { fullUrl: urn(), resource: { resourceType: 'Patient', active: 'not-a-boolean' }, request: { method: 'POST', url: 'Patient' } },
    ]));
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await countByIdentifier(value)).toBe(0);
    const after = await get(`Patient/${keep.id}`);
    expect(after.status).toBe(200);
    expect(after.body.meta.versionId).toBe('1');
  });

  it('fails as a whole on a dangling reference (422) and on a version conflict (412)', async () => {
    const value = uniq();
    const dangling = await post(bundle('transaction', [
      { fullUrl: urn(), resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: urn(), resource: observation('Patient/not-there'), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(dangling.status).toBe(422);
    expect(await countByIdentifier(value)).toBe(0);
    const p = (await post(patient(uniq()), '/Patient')).body;
    const stale = await post(bundle('transaction', [
      { fullUrl: urn(), resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { resource: p, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"5"' } },
    ]));
    expect(stale.status).toBe(412);
    expect(await countByIdentifier(value)).toBe(0);
  });

  it('processes entries in the spec\'s order (DELETE, POST, PUT/PATCH, GET) and answers in request order', async () => {
    const p = (await post(patient(uniq(), 'Original'), '/Patient')).body;
    const doomed = (await post(patient(uniq()), '/Patient')).body;
    const value = uniq();
    const res = await post(bundle('transaction', [
      { request: { method: 'GET', url: `Patient/${p.id}` } },
      { resource: { ...p, name: [{ family: 'Replaced' }] }, request: { method: 'PUT', url: `Patient/${p.id}` } },
      { fullUrl: urn(), resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'DELETE', url: `Patient/${doomed.id}` } },
    ]));
    expect(res.status).toBe(200);
    const [read, put, created, deleted] = res.body.entry;
    // The GET ran last, so it sees the PUT's version.
    expect(read.resource.name[0].family).toBe('Replaced');
    expect(read.resource.meta.versionId).toBe('2');
    expect(put.response.status).toMatch(/^200/);
    expect(created.response.status).toMatch(/^201/);
    expect(deleted.response.status).toMatch(/^20[04]/);
    expect((await get(`Patient/${doomed.id}`)).status).toBe(410);
  });

  it('runs a DELETE before a conditional create of the same thing, so the create is not satisfied by it', async () => {
    const value = uniq();
    const old = (await post(patient(value), '/Patient')).body;
    const res = await post(bundle('transaction', [
      { fullUrl: urn(), resource: patient(value, 'Fresh'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } },
      { request: { method: 'DELETE', url: `Patient?identifier=${SYS}|${value}` } },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toMatch(/^201/);
    expect((await get(`Patient/${old.id}`)).status).toBe(410);
    const now = await get(`Patient?identifier=${SYS}|${value}`);
    expect(now.body.entry.map((e: any) => e.resource.name[0].family)).toEqual(['Fresh']);
  });

  it('honours ifNoneExist and points references to the full URL at the existing resource', async () => {
    const value = uniq();
    const existing = (await post(patient(value), '/Patient')).body;
    const p = urn();
    const res = await post(bundle('transaction', [
      { fullUrl: p, resource: patient(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } },
      { fullUrl: urn(), resource: observation(p), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response.status).toMatch(/^200/);
    expect(idOf(res.body.entry[0].response.location)).toBe(existing.id);
    const obs = await get(`Observation/${idOf(res.body.entry[1].response.location)}`);
    expect(obs.body.subject.reference).toBe(`Patient/${existing.id}`);
    expect(await countByIdentifier(value)).toBe(1);
  });

  it('resolves conditional references; none or several matches fail the transaction', async () => {
    const value = uniq();
    const p = (await post(patient(value), '/Patient')).body;
    const ok = await post(bundle('transaction', [
      { fullUrl: urn(), resource: observation(`Patient?identifier=${SYS}|${value}`), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(ok.status).toBe(200);
    const obs = await get(`Observation/${idOf(ok.body.entry[0].response.location)}`);
    expect(obs.body.subject.reference).toBe(`Patient/${p.id}`);

    const none = await post(bundle('transaction', [
      { fullUrl: urn(), resource: observation(`Patient?identifier=${SYS}|nobody-${value}`), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(none.status).toBeGreaterThanOrEqual(400);
    await post(patient(value), '/Patient');
    const several = await post(bundle('transaction', [
      { fullUrl: urn(), resource: observation(`Patient?identifier=${SYS}|${value}`), request: { method: 'POST', url: 'Observation' } },
    ]));
    expect(several.status).toBe(412);
  });

  it('applies a PATCH entry (JSON Patch in a Binary)', async () => {
    const p = (await post(patient(uniq()), '/Patient')).body;
    const data = Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64');
    const res = await post(bundle('transaction', [
      { resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: `Patient/${p.id}` } },
    ]));
    expect(res.status).toBe(200);
    expect((await get(`Patient/${p.id}`)).body.active).toBe(true);
  });
});

describe('batch', () => {
  it('entries succeed or fail independently, each with its own status', async () => {
    const value = uniq();
    const p = (await post(patient(uniq()), '/Patient')).body;
    const res = await post(bundle('batch', [
      { resource: patient(value), request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', active: 'no' }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: `Patient/${p.id}` } },
      { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      { resource: observation('Patient/not-there'), request: { method: 'POST', url: 'Observation' } },
      { resource: p, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"3"' } },
    ]));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['201', '400', '200', '404', '422', '412']);
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(res.body.entry[2].resource.id).toBe(p.id);
    expect(await countByIdentifier(value)).toBe(1);
  });

  it('honours ifNoneExist per entry', async () => {
    const value = uniq();
    const entry = { resource: patient(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYS}|${value}` } };
    const res = await post(bundle('batch', [entry, entry]));
    // Batch entries are independent and may run concurrently: one of the two creates, the other
    // finds it (which one is not defined).
    expect(res.body.entry.map((e: any) => e.response.status.slice(0, 3)).sort()).toEqual(['200', '201']);
    expect(await countByIdentifier(value)).toBe(1);
  });

  it('refuses a Bundle that is not a batch or transaction, and malformed entries', async () => {
    expect((await post({ resourceType: 'Bundle', type: 'searchset' })).status).toBe(400);
    expect((await post(patient(uniq()))).status).toBe(400);
    expect((await post(bundle('batch', [{ request: { url: 'Patient' } }]))).status).toBe(400);
  });
});
