/**
 * Delivery throughput and latency, commit → handler: a rest-hook Subscription to a loopback
 * receiver; COUNT Appointments are created (CONCURRENCY writers); each POST's arrival time minus
 * the version's lastUpdated (stamped just before commit) is its latency.
 *   node server/test/bench/jobs-throughput.ts            # BullMQ on REDIS_URL (default local)
 *   MODE=inline node server/test/bench/jobs-throughput.ts  # no Redis: in-process runner
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../../src/config.ts';
import { systemContext } from '../../src/context.ts';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { FhirRepository } from '../../src/fhir/repo/repository.ts';
import { startJobs } from '../../src/jobs/runtime.ts';
import { setLogLevel } from '../../src/log.ts';
import { createTestDatabase } from '../db.ts';

const COUNT = Number(process.env.COUNT ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const mode = process.env.MODE === 'inline' ? 'inline' : 'bullmq';

setLogLevel('error');
loadDefinitions();
const t = await createTestDatabase('postgres');
const arrivals: number[] = [];
const latencies: number[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const r = JSON.parse(Buffer.concat(chunks).toString()) as Resource;
    arrivals.push(now);
    latencies.push(now - Date.parse(r.meta?.lastUpdated as string));
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const config = loadConfig({
  DATABASE_URL: t.url, LOG_LEVEL: 'error', REDIS_URL: mode === 'bullmq' ? process.env.REDIS_URL || 'redis://127.0.0.1:6379' : '',
  QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
});
const jobs = await startJobs(config, t.db, { role: 'worker' });
const repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: false });
await repo.create({
  resourceType: 'Subscription', status: 'active', reason: 'bench', criteria: 'Appointment?status=booked',
  channel: { type: 'rest-hook', endpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, payload: 'application/fhir+json' },
} as Resource);
await new Promise((r) => setTimeout(r, 1500)); // let the Subscription's own event pass
const began = Date.now();
let next = 0;
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < COUNT) {
    const i = next++;
    await repo.create({ resourceType: 'Appointment', status: 'booked', start: new Date(began + i * 60_000).toISOString(), end: new Date(began + i * 60_000 + 1_800_000).toISOString(), participant: [{ status: 'accepted', actor: { display: 'x' } }] } as Resource);
  }
}));
const written = Date.now();
while (arrivals.length < COUNT && Date.now() - written < 30_000) await new Promise((r) => setTimeout(r, 20));
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
console.log(JSON.stringify({
  mode, events: COUNT, delivered: arrivals.length, writeSeconds: (written - began) / 1000,
  eventsPerSecond: Math.round(arrivals.length / ((Math.max(...arrivals) - began) / 1000)),
  latencyMs: { p50: pct(50), p99: pct(99), max: sorted[sorted.length - 1] },
}));
await jobs.stop();
receiver.close();
await t.close();
