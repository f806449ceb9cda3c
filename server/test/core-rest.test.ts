/**
 * Every interaction of CONTRACT.md "FHIR REST (R4)" over real HTTP against the real app:
 * instance, type and system interactions, conditional create/update/delete, versioning headers,
 * Prefer, _summary/_elements/_pretty and plain application/json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const url = (path: string) => `${server.fhir}/${path}`;
let serial = 0;
/** A Patient with an identifier unique to this test run. */
function newPatient(extra: Record<string, unknown> = {}) {
  const value = `mrn-${process.pid}-${++serial}`;
  return { resourceType: 'Patient', identifier: [{ system: 'urn:test:mrn', value }], name: [{ family: 'Rest', given: ['Ada'] }], ...extra };
}
async function create(resource: Record<string, unknown>) {
  const res = await fetchJson(url(resource.resourceType as string), { method: 'POST', body: resource });
  expect(res.status).toBe(201);
  return res.body;
}

describe('instance and type interactions', () => {
  it('create answers 201 with Location, ETag, Last-Modified and the stored resource', async () => {
    const res = await fetchJson(url('Patient'), { method: 'POST', body: newPatient() });
    expect(res.status).toBe(201);
    const { id, meta } = res.body;
    expect(res.headers.get('location')).toBe(`${server.fhir}/Patient/${id}/_history/1`);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(meta.versionId).toBe('1');
    expect(new Date(res.headers.get('last-modified') as string).getTime()).toBe(Math.floor(new Date(meta.lastUpdated).getTime() / 1000) * 1000);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  });

  it('read, vread, HEAD and If-None-Match', async () => {
    const p = await create(newPatient());
    const read = await fetchJson(url(`Patient/${p.id}`));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(p);
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect(read.headers.get('last-modified')).toBeTruthy();
    const vread = await fetchJson(url(`Patient/${p.id}/_history/1`));
    expect(vread.status).toBe(200);
    expect(vread.body).toEqual(p);
    const head = await fetch(url(`Patient/${p.id}`), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe('W/"1"');
    const notModified = await fetch(url(`Patient/${p.id}`), { headers: { 'if-none-match': 'W/"1"' } });
    expect(notModified.status).toBe(304);
  });

  it('update (PUT) makes a new version; update of an unknown id creates it (201)', async () => {
    const p = await create(newPatient());
    const upd = await fetchJson(url(`Patient/${p.id}`), { method: 'PUT', body: { ...p, active: true } });
    expect(upd.status).toBe(200);
    expect(upd.headers.get('etag')).toBe('W/"2"');
    expect(upd.headers.get('location')).toBe(`${server.fhir}/Patient/${p.id}/_history/2`);
    expect(upd.body).toMatchObject({ id: p.id, active: true, meta: { versionId: '2' } });
    expect((await fetchJson(url(`Patient/${p.id}/_history/1`))).body.active).toBeUndefined();

    const id = `client-id-${process.pid}`;
    const asCreate = await fetchJson(url(`Patient/${id}`), { method: 'PUT', body: { ...newPatient(), id } });
    expect(asCreate.status).toBe(201);
    expect(asCreate.body.meta.versionId).toBe('1');
    expect((await fetchJson(url(`Patient/${id}`))).status).toBe(200);
  });

  it('If-Match on update, patch and delete: the right version passes, a stale one is 412', async () => {
    const p = await create(newPatient());
    const stale = { 'if-match': 'W/"7"' };
    expect((await fetchJson(url(`Patient/${p.id}`), { method: 'PUT', body: p, headers: stale })).status).toBe(412);
    expect((await fetchJson(url(`Patient/${p.id}`), { method: 'PATCH', body: [], headers: { ...stale, 'content-type': 'application/json-patch+json' } })).status).toBe(412);
    expect((await fetchJson(url(`Patient/${p.id}`), { method: 'DELETE', headers: stale })).status).toBe(412);
    const ok = await fetchJson(url(`Patient/${p.id}`), { method: 'PUT', body: p, headers: { 'if-match': 'W/"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
  });

  it('patch takes a JSON Patch document', async () => {
    const p = await create(newPatient());
    const res = await fetchJson(url(`Patient/${p.id}`), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"1"' },
      body: [{ op: 'add', path: '/birthDate', value: '1970-01-02' }, { op: 'replace', path: '/name/0/family', value: 'Patched' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('W/"2"');
    expect(res.body).toMatchObject({ birthDate: '1970-01-02', name: [{ family: 'Patched' }] });
  });

  it('delete is soft: 200, then read is 410 and history keeps every version', async () => {
    const p = await create(newPatient());
    await fetchJson(url(`Patient/${p.id}`), { method: 'PUT', body: { ...p, active: false } });
    const del = await fetchJson(url(`Patient/${p.id}`), { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.headers.get('etag')).toBe('W/"3"');
    const gone = await fetchJson(url(`Patient/${p.id}`));
    expect(gone.status).toBe(410);
    expect(gone.body.resourceType).toBe('OperationOutcome');
    const hist = await fetchJson(url(`Patient/${p.id}/_history`));
    expect(hist.status).toBe(200);
    expect(hist.body).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 3 });
    expect(hist.body.entry.map((e: any) => [e.request.method, e.response.etag])).toEqual([
      ['DELETE', 'W/"3"'],
      ['PUT', 'W/"2"'],
      ['POST', 'W/"1"'],
    ]);
    expect(hist.body.entry[0].resource).toBeUndefined();
    expect(hist.body.entry[2].resource.meta.versionId).toBe('1');
  });

  it('type and system history with _since and _count paging through next links', async () => {
    const before = new Date(Date.now() - 1).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await create({ resourceType: 'Basic', code: { text: `h${i}` } }));
    const type = await fetchJson(url(`Basic/_history?_since=${encodeURIComponent(before)}`));
    expect(type.body.total).toBe(3);
    expect(type.body.entry.map((e: any) => e.resource.id)).toEqual(made.map((m) => m.id).reverse());
    // _count=2 pages: the next link leads to the rest.
    const page1 = await fetchJson(url(`Basic/_history?_since=${encodeURIComponent(before)}&_count=2`));
    expect(page1.body.entry).toHaveLength(2);
    const next = page1.body.link.find((l: any) => l.relation === 'next').url;
    const page2 = await fetchJson(next);
    expect(page2.body.entry.map((e: any) => e.resource.id)).toEqual([made[0].id]);
    expect(page2.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    const system = await fetchJson(url(`_history?_since=${encodeURIComponent(before)}`));
    expect(system.body.entry.filter((e: any) => e.resource?.resourceType === 'Basic')).toHaveLength(3);
  });

  it('search by GET and POST _search', async () => {
    const p = await create(newPatient());
    const id = p.identifier[0].value;
    const get = await fetchJson(url(`Patient?identifier=urn:test:mrn|${id}`));
    expect(get.body.entry.map((e: any) => e.resource.id)).toEqual([p.id]);
    const post = await fetch(url('Patient/_search'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/fhir+json' },
      body: `identifier=${encodeURIComponent(`urn:test:mrn|${id}`)}`,
    });
    expect(post.status).toBe(200);
    expect(((await post.json()) as any).entry.map((e: any) => e.resource.id)).toEqual([p.id]);
  });
});

describe('conditional interactions', () => {
  const ident = (p: any) => `identifier=urn:test:mrn|${p.identifier[0].value}`;

  it('If-None-Exist: no match creates (201), one match returns it (200), two matches are 412', async () => {
    const body = newPatient();
    const first = await fetchJson(url('Patient'), { method: 'POST', body, headers: { 'if-none-exist': ident(body) } });
    expect(first.status).toBe(201);
    const again = await fetchJson(url('Patient'), { method: 'POST', body, headers: { 'if-none-exist': ident(body) } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    await create(body); // a duplicate made without the condition
    const ambiguous = await fetchJson(url('Patient'), { method: 'POST', body, headers: { 'if-none-exist': ident(body) } });
    expect(ambiguous.status).toBe(412);
  });

  it('conditional update: creates when nothing matches, updates the one match, 412 on several', async () => {
    const body = newPatient();
    const created = await fetchJson(url(`Patient?${ident(body)}`), { method: 'PUT', body });
    expect(created.status).toBe(201);
    const updated = await fetchJson(url(`Patient?${ident(body)}`), { method: 'PUT', body: { ...body, active: true } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: created.body.id, active: true, meta: { versionId: '2' } });
    const wrongId = await fetchJson(url(`Patient?${ident(body)}`), { method: 'PUT', body: { ...body, id: 'someone-else' } });
    expect(wrongId.status).toBe(400);
    await create(body);
    expect((await fetchJson(url(`Patient?${ident(body)}`), { method: 'PUT', body })).status).toBe(412);
  });

  it('conditional delete: deletes the single match, no-op when none, 412 on several', async () => {
    const body = newPatient();
    const p = await create(body);
    const del = await fetchJson(url(`Patient?${ident(body)}`), { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await fetchJson(url(`Patient/${p.id}`))).status).toBe(410);
    expect((await fetchJson(url(`Patient?${ident(body)}`), { method: 'DELETE' })).status).toBe(200);
    const twin = newPatient();
    await create(twin);
    await create(twin);
    expect((await fetchJson(url(`Patient?${ident(twin)}`), { method: 'DELETE' })).status).toBe(412);
  });
});

describe('Prefer, _summary, _elements, _pretty, content types', () => {
  it('Prefer: return=minimal sends no body, return=OperationOutcome an outcome, representation the resource', async () => {
    const minimal = await fetch(url('Patient'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify(newPatient()),
    });
    expect(minimal.status).toBe(201);
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    expect(await minimal.text()).toBe('');
    const oo = await fetchJson(url('Patient'), { method: 'POST', body: newPatient(), headers: { prefer: 'return=OperationOutcome' } });
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
    const rep = await fetchJson(url('Patient'), { method: 'POST', body: newPatient(), headers: { prefer: 'return=representation' } });
    expect(rep.body.resourceType).toBe('Patient');
    const upd = await fetchJson(url(`Patient/${rep.body.id}`), { method: 'PUT', body: rep.body, headers: { prefer: 'return=minimal' } });
    expect(upd.status).toBe(200);
    expect(upd.body).toBeUndefined();
  });

  it('_summary and _elements subset a read and mark it SUBSETTED', async () => {
    const p = await create(newPatient({ gender: 'female', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ada</div>' } }));
    const summary = await fetchJson(url(`Patient/${p.id}?_summary=true`));
    expect(summary.body).toMatchObject({ id: p.id, gender: 'female', name: p.name });
    expect(summary.body.text).toBeUndefined();
    expect(summary.body.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
    const text = await fetchJson(url(`Patient/${p.id}?_summary=text`));
    expect(text.body.text).toEqual(p.text);
    expect(text.body.name).toBeUndefined();
    const data = await fetchJson(url(`Patient/${p.id}?_summary=data`));
    expect(data.body.text).toBeUndefined();
    expect(data.body.gender).toBe('female');
    const elements = await fetchJson(url(`Patient/${p.id}?_elements=gender`));
    expect(Object.keys(elements.body).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
  });

  it('_pretty=true indents the JSON; without it the JSON is compact', async () => {
    const p = await create(newPatient());
    const pretty = await (await fetch(url(`Patient/${p.id}?_pretty=true`))).text();
    expect(pretty).toContain('\n  "resourceType": "Patient"');
    expect(JSON.parse(pretty)).toEqual(p);
    const compact = await (await fetch(url(`Patient/${p.id}`))).text();
    expect(compact).not.toContain('\n');
  });

  it('application/json is accepted and answered', async () => {
    const res = await fetch(url('Patient'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(newPatient()),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const read = await fetch(url(`Patient/${((await res.json()) as any).id}`), { headers: { accept: 'application/json' } });
    expect(read.headers.get('content-type')).toMatch(/^application\/json/);
    const fhir = await fetch(url('metadata'), { headers: { accept: 'application/fhir+json' } });
    expect(fhir.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  });
});

describe('server endpoints', () => {
  it('metadata is an R4 CapabilityStatement listing the interactions', async () => {
    const res = await fetchJson(url('metadata'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    const patient = res.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    expect(patient.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']));
    expect(patient.conditionalCreate).toBe(true);
    const validated = await fetchJson(url('CapabilityStatement/$validate'), { method: 'POST', body: res.body });
    expect(validated.body.issue.filter((i: any) => i.severity === 'error')).toEqual([]);
  });

  it('openapi.json, healthz and CORS', async () => {
    const openapi = await fetchJson(url('openapi.json'));
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toMatch(/^3\./);
    const health = await fetchJson(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const cors = await fetch(url('Patient'), { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('$validate on type and instance', async () => {
    const bad = await fetchJson(url('Patient/$validate'), { method: 'POST', body: { resourceType: 'Patient', active: 'yes' } });
    expect(bad.status).toBe(200);
    expect(bad.body.issue[0]).toMatchObject({ severity: 'error', expression: ['Patient.active'] });
    const p = await create(newPatient());
    const inst = await fetchJson(url(`Patient/${p.id}/$validate`), { method: 'POST', body: p });
    expect(inst.body.issue.filter((i: any) => i.severity === 'error')).toEqual([]);
  });
});
