/**
 * Nothing lost, nothing twice: with real Redis and BullMQ, a worker process (`src/worker.ts`,
 * what `npm run worker` runs) is killed with SIGKILL while it works through a burst of events;
 * a fresh worker takes over, and every event has been handled exactly once (one
 * "appointment confirmed" Communication per booked Appointment, from the bot).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { systemContext } from '../src/context.ts';
import { loadDefinitions } from '../src/fhir/definitions.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { waitFor } from './support/fake-twilio.ts';

const SERVER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const N = 300;
let t: TestDatabase;
const children: ChildProcess[] = [];
const prefix = `test-kill-${randomBytes(4).toString('hex')}`;

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['src/worker.ts'], {
    cwd: SERVER_DIR,
    env: { ...process.env, DATABASE_URL: t.url, REDIS_URL, QUEUE_PREFIX: prefix, JOB_LOCK_MS: '2000', JOB_BACKOFF_MS: '200', LOG_LEVEL: 'error', DATABASE_POOL_SIZE: '5' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function count(sql: string): Promise<number> {
  return (await t.db.query<{ n: number }>(sql)).rows[0].n;
}

const notifications = () => count(`SELECT count(*)::int AS n FROM resource WHERE type = 'Communication' AND NOT deleted`);

beforeAll(async () => {
  loadDefinitions();
  t = await createTestDatabase('postgres');
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await t?.close();
});

it('delivers every event exactly once across a kill -9 of the worker', async () => {
  const repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: true });
  const patient = (await repo.create({ resourceType: 'Patient', name: [{ family: 'Kill' }] } as Resource)).resource;
  const start = Date.now() + 10 * 86_400_000;
  const appts = Array.from({ length: N }, (_, i) => ({
    resourceType: 'Appointment', status: 'booked',
    start: new Date(start + i * 3_600_000).toISOString(), end: new Date(start + i * 3_600_000 + 1_800_000).toISOString(),
    participant: [{ actor: { reference: `Patient/${patient.id}` }, status: 'accepted' }],
  }) as Resource);
  for (let i = 0; i < N; i += 50) await repo.createMany(appts.slice(i, i + 50));
  expect(await count('SELECT count(*)::int AS n FROM outbox_event')).toBe(N + 1);

  const first = startWorker();
  // Kill it once it is well into the burst (jobs are in flight at that moment).
  await waitFor(async () => (await notifications()) >= N / 5, 60_000, 'first deliveries');
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = await notifications();
  expect(atKill).toBeLessThan(N);

  startWorker();
  await waitFor(async () => {
    const [n, pending] = [await notifications(), await count('SELECT count(*)::int AS n FROM outbox_event')];
    if (process.env.DEBUG_JOBS) console.log({ n, pending, atKill });
    return n >= N && pending === 0;
  }, 90_000, 'all deliveries');
  await new Promise((r) => setTimeout(r, 3000)); // any duplicate would show up now
  expect(await notifications()).toBe(N);
  const perAppointment = await t.db.query<{ about: string; n: number }>(
    `SELECT content::jsonb->'about'->0->>'reference' AS about, count(*)::int AS n FROM resource WHERE type = 'Communication' GROUP BY 1 HAVING count(*) <> 1`,
  );
  expect(perAppointment.rows).toEqual([]);
  expect(await count(`SELECT count(*)::int AS n FROM job_delivery WHERE handler = 'bot:appointment-notifications'`)).toBe(N);
  expect(await count('SELECT count(*)::int AS n FROM job_dead_letter')).toBe(0);
}, 180_000);
