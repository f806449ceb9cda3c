/**
 * Conditional writes must be race-free: many clients sending the same conditional create (or
 * conditional update, or transaction entry with ifNoneExist) at once produce exactly one
 * resource. Run on PostgreSQL, where requests really do run in parallel on a connection pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server.ts';

const CLIENTS = 20;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, 'postgres');
});
afterAll(async () => {
  await server?.close();
});

function patient(value: string) {
  return { resourceType: 'Patient', identifier: [{ system: 'urn:test:race', value }], name: [{ family: 'Race' }] };
}

async function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.fhir}${path}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Ids of the stored (not deleted) Patients with this identifier, straight from the table. */
async function storedIds(value: string): Promise<string[]> {
  const { rows } = await server.database.db.query<{ id: string }>(
    `SELECT id FROM resource WHERE type = 'Patient' AND NOT deleted AND content::jsonb -> 'identifier' @> $1::jsonb`,
    [JSON.stringify([{ system: 'urn:test:race', value }])],
  );
  return rows.map((r) => r.id);
}

describe('race-free conditional writes (PostgreSQL)', () => {
  it(`${CLIENTS} concurrent identical If-None-Exist creates make exactly one resource`, async () => {
    const value = `ine-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, () => send('POST', '/Patient', patient(value), { 'if-none-exist': `identifier=urn:test:race|${value}` })),
    );
    const ids = await storedIds(value);
    expect(ids).toHaveLength(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(CLIENTS - 1);
    // Everyone is told about the same resource.
    expect(new Set(results.map((r) => r.body.id))).toEqual(new Set(ids));
  });

  it(`${CLIENTS} concurrent identical conditional updates make one resource with consecutive versions`, async () => {
    const value = `cu-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, () => send('PUT', `/Patient?identifier=urn:test:race|${value}`, patient(value))),
    );
    const ids = await storedIds(value);
    expect(ids).toHaveLength(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 201].flatMap((s) => Array(s === 201 ? 1 : CLIENTS - 1).fill(s)).sort());
    expect(results.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(Array.from({ length: CLIENTS }, (_, i) => i + 1));
  });

  it(`${CLIENTS} concurrent transactions with the same ifNoneExist entry make exactly one resource`, async () => {
    const value = `tx-${Date.now()}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:5b4fbd7a-37a4-4bd5-a1f4-d8a0e1e50b2c', resource: patient(value), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:test:race|${value}` } }],
    };
    const results = await Promise.all(Array.from({ length: CLIENTS }, () => send('POST', '', bundle)));
    expect(results.map((r) => r.status)).toEqual(Array(CLIENTS).fill(200));
    expect(await storedIds(value)).toHaveLength(1);
    const statuses = results.map((r) => r.body.entry[0].response.status);
    expect(statuses.filter((s) => s.startsWith('201'))).toHaveLength(1);
  });
});
