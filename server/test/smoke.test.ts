import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, startTestServer, type TestServer } from './server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('FHIR API smoke test', () => {
  it('creates, reads and finds a Patient', async () => {
    const created = await fetchJson(`${server.fhir}/Patient`, {
      method: 'POST',
      body: { resourceType: 'Patient', name: [{ family: 'Jackson', given: ['Jack'] }] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('W/"1"');
    const read = await fetchJson(`${server.fhir}/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name[0].family).toBe('Jackson');
    const found = await fetchJson(`${server.fhir}/Patient?name=jack`);
    expect(found.body.entry.map((e: any) => e.resource.id)).toEqual([created.body.id]);
  });
});
