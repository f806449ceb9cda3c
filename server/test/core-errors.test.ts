/**
 * Every error status of the FHIR API tried for real over HTTP. Each error must be an
 * OperationOutcome naming the request id, with no stack trace or SQL in it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLogLevel } from '../src/log.ts';
import { startTestServer, type TestServer } from './server.ts';

let server: TestServer;
/** A server whose body limit is 1 kB. */
let small: TestServer;
beforeAll(async () => {
  [server, small] = await Promise.all([startTestServer(), startTestServer({ BODY_LIMIT: '1kb' })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), small?.close()]);
});

interface ErrorCase {
  status: number;
  body: any;
  text: string;
  requestId: string | null;
}

/** Sends a raw request and checks what every error answer must satisfy. */
async function expectError(status: number, path: string, init: RequestInit = {}, base = () => server.fhir): Promise<ErrorCase> {
  const res = await fetch(`${base()}${path}`, init);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/(fhir\+)?json/);
  const body = JSON.parse(text);
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue[0].severity).toMatch(/error|fatal/);
  const requestId = res.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  expect(body.issue[0].diagnostics).toBe(`request id ${requestId}`);
  expectNoInternals(text);
  return { status: res.status, body, text, requestId };
}

/** No stack frames, source paths or SQL in a body sent to a client. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|node_modules|file:\/\//);
  expect(text).not.toMatch(/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\$\d+::|SQLSTATE|syntax error at/);
}

const json = (body: unknown, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/fhir+json', ...extra },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

async function createPatient(): Promise<any> {
  const res = await fetch(`${server.fhir}/Patient`, json({ resourceType: 'Patient', name: [{ family: 'Err' }] }));
  expect(res.status).toBe(201);
  return res.json();
}

describe('404 Not Found', () => {
  it('unknown resource type, unknown route, unknown id, unknown version, unknown operation', async () => {
    await expectError(404, '/NotAType/1');
    await expectError(404, '/NotAType', json({ resourceType: 'NotAType' }));
    await expectError(404, '/Patient/1/bogus/extra/path');
    await expectError(404, '/x', {}, () => `${server.url}/no-such-route`);
    await expectError(404, '/Patient/no-such-id');
    const p = await createPatient();
    await expectError(404, `/Patient/${p.id}/_history/9`);
    await expectError(404, '/Patient/$no-such-operation', json({}));
  });
});

describe('400 Bad Request', () => {
  it('malformed JSON', async () => {
    const { body } = await expectError(400, '/Patient', json('{"resourceType": "Patient", '));
    expect(body.issue[0].code).toBe('structure');
  });

  it('resourceType in the body disagreeing with the URL, on create and update', async () => {
    const create = await expectError(400, '/Patient', json({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }));
    expect(create.body.issue[0].expression).toEqual(['resourceType']);
    const p = await createPatient();
    await expectError(400, `/Patient/${p.id}`, { ...json({ ...p, resourceType: 'Practitioner' }), method: 'PUT' });
  });

  it('id in the body disagreeing with the URL, or missing, on update', async () => {
    const p = await createPatient();
    const wrong = await expectError(400, `/Patient/${p.id}`, { ...json({ ...p, id: 'other-id' }), method: 'PUT' });
    expect(wrong.body.issue[0].expression).toEqual(['id']);
    const { id: _id, ...noId } = p;
    await expectError(400, `/Patient/${p.id}`, { ...json(noId), method: 'PUT' });
  });

  it('validation failures name the bad element in issue.expression', async () => {
    const type = await expectError(400, '/Patient', json({ resourceType: 'Patient', active: 'yes' }));
    expect(type.body.issue[0].expression).toEqual(['Patient.active']);
    const unknown = await expectError(400, '/Patient', json({ resourceType: 'Patient', nmae: [{ family: 'x' }] }));
    expect(unknown.body.issue[0].expression).toEqual(['Patient.nmae']);
    const required = await expectError(400, '/Observation', json({ resourceType: 'Observation', code: { text: 'x' } }));
    expect(required.body.issue[0].expression).toEqual(['Observation.status']);
    const nested = await expectError(400, '/Patient', json({ resourceType: 'Patient', name: [{ family: 'A' }, { family: 7 }] }));
    expect(nested.body.issue[0].expression?.[0]).toMatch(/^Patient\.name(\[1\])?\.family$/);
  });

  it('an AuditEvent from a client is validated like any other write (only the audit trail\'s own skip it)', async () => {
    const bad = await expectError(400, '/AuditEvent', json({ resourceType: 'AuditEvent', type: { code: 'rest' }, action: 'X', recorded: 'yesterday', agent: [{ requestor: true }], source: { observer: { display: 'x' } } }));
    expect(bad.body.issue.map((i: any) => i.expression?.[0])).toEqual(expect.arrayContaining(['AuditEvent.recorded']));
    const inBundle = await fetch(server.fhir, json({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'AuditEvent', recorded: 'soon' }, request: { method: 'POST', url: 'AuditEvent' } }] }));
    expect(inBundle.status).toBe(400);
  });

  it('codes outside a required binding and empty arrays are refused, and nothing is stored', async () => {
    const gender = await expectError(400, '/Patient', json({ resourceType: 'Patient', gender: 'robot' }));
    expect(gender.body.issue[0]).toMatchObject({ code: 'code-invalid', expression: ['Patient.gender'] });
    expect(gender.body.issue[0].details.text).toContain('http://hl7.org/fhir/ValueSet/administrative-gender');
    // Inside a datatype (HumanName.use) and inside a choice element (valueQuantity.comparator).
    const use = await expectError(400, '/Patient', json({ resourceType: 'Patient', name: [{ family: 'A' }, { family: 'B', use: 'weird' }] }));
    expect(use.body.issue[0].expression).toEqual(['Patient.name[1].use']);
    const comparator = await expectError(400, '/Observation', json({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, comparator: '~' } }));
    expect(comparator.body.issue[0].expression).toEqual(['Observation.valueQuantity.comparator']);
    // A status update to a code the binding does not have.
    const obs = await fetch(`${server.fhir}/Observation`, json({ resourceType: 'Observation', status: 'preliminary', code: { text: 'BP' } }));
    expect(obs.status).toBe(201);
    const created = (await obs.json()) as any;
    await expectError(400, `/Observation/${created.id}`, { ...json({ ...created, status: 'postponed' }), method: 'PUT' });
    const empty = await expectError(400, '/Patient', json({ resourceType: 'Patient', name: [], gender: 'female' }));
    expect(empty.body.issue[0].expression).toEqual(['Patient.name']);
    // The valid codes pass, and none of the refused writes left a version behind.
    expect((await fetch(`${server.fhir}/Patient`, json({ resourceType: 'Patient', gender: 'other', name: [{ use: 'official', family: 'C' }] }))).status).toBe(201);
    expect(((await (await fetch(`${server.fhir}/Observation/${created.id}/_history`)).json()) as any).total).toBe(1);
    const robots = (await (await fetch(`${server.fhir}/Patient?gender=robot&_total=accurate`)).json()) as any;
    expect(robots.total).toBe(0);
  });

  it('a PUT to a malformed id is 400 (a read of one is 404)', async () => {
    const long = 'a'.repeat(65);
    await expectError(400, `/Patient/${long}`, { ...json({ resourceType: 'Patient', id: long }), method: 'PUT' });
    await expectError(400, '/Patient/bad_id!', { ...json({ resourceType: 'Patient', id: 'bad_id!' }), method: 'PUT' });
    await expectError(404, `/Patient/${long}`);
    const ok = 'a'.repeat(64);
    expect((await fetch(`${server.fhir}/Patient/${ok}`, { ...json({ resourceType: 'Patient', id: ok }), method: 'PUT' })).status).toBe(201);
  });

  it('a Bundle with two entries of one fullUrl is refused whole', async () => {
    const entry = (family: string) => ({ fullUrl: 'urn:uuid:8a3c1b32-2f4e-4f1a-9a53-2d7c5e1f0a11', resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } });
    for (const type of ['transaction', 'batch']) {
      const dup = await expectError(400, '', json({ resourceType: 'Bundle', type, entry: [entry('DupFullUrlA'), entry('DupFullUrlB')] }));
      expect(dup.body.issue[0].expression).toEqual(['Bundle.entry[1].fullUrl']);
    }
    const found = (await (await fetch(`${server.fhir}/Patient?family=DupFullUrl&_total=accurate`)).json()) as any;
    expect(found.total).toBe(0);
  });

  it('a body that is not a resource, a missing body, a malformed ETag, a bad Bundle', async () => {
    await expectError(400, '/Patient', json('[1, 2]'));
    await expectError(400, '/Patient', { method: 'POST', headers: { 'content-type': 'application/fhir+json' } });
    const p = await createPatient();
    await expectError(400, `/Patient/${p.id}`, { ...json(p, { 'if-match': 'version-one' }), method: 'PUT' });
    await expectError(400, '', json({ resourceType: 'Bundle', type: 'collection' }));
    await expectError(400, '/Patient/_history?_since=not-a-date');
  });
});

describe('other client errors', () => {
  it('415 Unsupported Media Type for XML and plain text bodies', async () => {
    await expectError(415, '/Patient', { method: 'POST', headers: { 'content-type': 'application/fhir+xml' }, body: '<Patient xmlns="http://hl7.org/fhir"/>' });
    await expectError(415, '/Patient', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"resourceType":"Patient"}' });
  });

  it('406 when only XML is acceptable', async () => {
    await expectError(406, '/metadata', { headers: { accept: 'application/fhir+xml' } });
  });

  it('413 for a body over BODY_LIMIT, and a body under it is fine', async () => {
    const big = { resourceType: 'Patient', name: [{ family: 'x'.repeat(2000) }] };
    const { body } = await expectError(413, '/Patient', json(big), () => small.fhir);
    expect(body.issue[0].code).toBe('too-long');
    const ok = await fetch(`${small.fhir}/Patient`, json({ resourceType: 'Patient', name: [{ family: 'short' }] }));
    expect(ok.status).toBe(201);
  });

  it('412 Precondition Failed on a version conflict', async () => {
    const p = await createPatient();
    await expectError(412, `/Patient/${p.id}`, { ...json(p, { 'if-match': 'W/"2"' }), method: 'PUT' });
  });

  it('409 or success, never a lost version, when PUTs race to create one client id', async () => {
    const id = `race-${process.pid}-${Date.now()}`;
    const put = (n: number) => fetch(`${server.fhir}/Patient/${id}`, { ...json({ resourceType: 'Patient', id, name: [{ family: `R${n}` }] }), method: 'PUT' });
    const responses = await Promise.all(Array.from({ length: 6 }, (_, n) => put(n)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => [200, 201, 409].includes(s)), String(statuses)).toBe(true);
    for (const r of responses.filter((r) => r.status === 409)) expectNoInternals(await r.text());
    const applied = statuses.filter((s) => s !== 409).length;
    const history: any = await (await fetch(`${server.fhir}/Patient/${id}/_history`)).json();
    expect(history.total).toBe(applied);
    const current: any = await (await fetch(`${server.fhir}/Patient/${id}`)).json();
    expect(current.meta.versionId).toBe(String(applied));
  });

  it('410 Gone for a deleted resource', async () => {
    const p = await createPatient();
    expect((await fetch(`${server.fhir}/Patient/${p.id}`, { method: 'DELETE' })).status).toBe(200);
    const { body } = await expectError(410, `/Patient/${p.id}`);
    expect(body.issue[0].code).toBe('deleted');
    await expectError(410, `/Patient/${p.id}`, { ...json([{ op: 'add', path: '/active', value: true }]), method: 'PATCH' });
  });

  it('422 for a reference to a resource that does not exist', async () => {
    const { body } = await expectError(422, '/Observation', json({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/does-not-exist' } }));
    expect(body.issue[0].details.text).toContain('Patient/does-not-exist');
  });

  it('405 for a method an endpoint does not take', async () => {
    await expectError(405, '/metadata', { method: 'DELETE' });
    await expectError(405, '/Patient/x/_history', { method: 'DELETE' });
  });
});

describe('request ids and internal errors', () => {
  it('a client-supplied X-Request-Id is echoed in the error', async () => {
    const res = await expectError(404, '/Patient/nobody', { headers: { 'x-request-id': 'client-req-42' } });
    expect(res.requestId).toBe('client-req-42');
  });

  it('an internal failure answers a generic 500; details go only to the log, with the request id', async () => {
    const broken = await startTestServer();
    // Make every query fail the way a broken database does, with SQL in the error message.
    const db = broken.database.db;
    const realQuery = db.query;
    db.query = async () => {
      throw Object.assign(new Error('syntax error at or near "FROM" in SELECT content FROM resource WHERE id = $1::text'), { code: '42601' });
    };
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
      lines.push(String(chunk));
      return true;
    });
    setLogLevel('error');
    try {
      const { body, requestId } = await expectError(500, '/Patient/some-id', {}, () => broken.fhir);
      expect(body.issue[0].code).toBe('exception');
      expect(body.issue[0].details.text).toBe('Internal server error');
      const logged = lines.find((l) => l.includes(requestId as string));
      expect(logged, 'the log line names the request id').toBeDefined();
      expect(logged).toContain('syntax error');
      expect(JSON.parse(logged as string).level).toBe('error');
    } finally {
      setLogLevel('silent');
      spy.mockRestore();
    }
    const health = await fetch(`${broken.url}/healthz`);
    expect(health.status).toBe(503);
    db.query = realQuery;
    await broken.close();
  });
});
