/**
 * Embedded mode (no Redis: the outbox is the queue): a delivery that fails every attempt is
 * retried with backoff, then dead-lettered after JOB_ATTEMPTS with its event (nothing lost), and
 * the Subscription says so; events keep flowing for everyone else meanwhile.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { startJobs, type JobsRuntime } from '../src/jobs/runtime.ts';
import { createResource } from './auth-helpers.ts';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { waitFor } from './support/fake-twilio.ts';

const ATTEMPTS = 3;
let server: TestServer;
let jobs: JobsRuntime;
const hits: { path: string; eventId: string }[] = [];
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    hits.push({ path: req.url ?? '', eventId: String(req.headers['x-event-id']) });
    res.writeHead(req.url === '/broken' ? 500 : 204).end();
  });
});
let base: string;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await startTestServer({ JOB_ATTEMPTS: String(ATTEMPTS), JOB_BACKOFF_MS: '200' }, 'postgres');
  jobs = await startJobs(server.config, server.database.db, { role: 'server' });
});
afterAll(async () => {
  await jobs?.stop();
  await server?.close();
  receiver.close();
});

async function subscribe(criteria: string, path: string): Promise<string> {
  const res = await fetchJson(`${server.fhir}/Subscription`, { method: 'POST', body: { resourceType: 'Subscription', status: 'requested', reason: 'test', criteria, channel: { type: 'rest-hook', endpoint: base + path } } });
  expect(res.status).toBe(201);
  await waitFor(async () => (await fetchJson(`${server.fhir}/Subscription/${res.body.id}`)).body.status === 'active', 20_000, 'active');
  return res.body.id;
}

it('dead-letters an event whose delivery always fails, after JOB_ATTEMPTS, and keeps delivering others', async () => {
  const broken = await subscribe('Patient?family=broken', '/broken');
  await subscribe('Patient?family=fine', '/fine');
  const p = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Broken' }] } as Resource);
  const key = `Patient/${p.id}/_history/1`;
  const db = server.database.db;
  const dead = await waitFor(async () => (await db.query<{ queue: string; job_key: string; data: string; error: string; attempts: number }>(
    'SELECT queue, job_key, data, error, attempts FROM job_dead_letter WHERE job_key = $1', [key])).rows[0], 30_000, 'dead letter');
  expect(dead).toMatchObject({ queue: 'inline', job_key: key, attempts: ATTEMPTS });
  expect(dead.error).toMatch(new RegExp(`subscription:${broken}: Endpoint answered 500`));
  expect(JSON.parse(dead.data)).toMatchObject({ type: 'Patient', id: p.id, version: 1 });
  expect(hits.filter((h) => h.eventId === key)).toHaveLength(ATTEMPTS);
  // The event left the outbox only for the dead-letter list.
  await waitFor(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_event WHERE res_id = $1', [p.id])).rows[0].n === 0, 5000, 'outbox row gone');
  // The Subscription is marked after the event is dead-lettered (its last step), so wait for it.
  const sub = await waitFor(async () => {
    const s = (await fetchJson<Subscription>(`${server.fhir}/Subscription/${broken}`)).body;
    return s.error?.startsWith('Gave up') ? s : undefined;
  }, 5000, 'the Subscription marked as given up');
  expect(sub.status).toBe('error');
  expect(sub.error).toMatch(new RegExp(`Gave up delivering ${key} after ${ATTEMPTS} attempts`));

  // Other events are delivered as usual.
  const q = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Fine' }] } as Resource);
  await waitFor(() => hits.some((h) => h.path === '/fine' && h.eventId === `Patient/${q.id}/_history/1`), 20_000, 'the healthy hook');
}, 60_000);
