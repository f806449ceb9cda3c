/**
 * Delivery throughput and latency, commit → handler: a rest-hook Subscription
 * (`Appointment?status=booked`) to a loopback receiver; every Appointment written is one event
 * that the platform fans out (the Subscription, plus the bots whose criteria match) and delivers.
 * The latency of an event is the hook POST's arrival time minus the version's lastUpdated
 * (stamped just before commit). Two phases, in one process (writers, dispatcher and workers
 * share the machine):
 *   burst  — throughput: COUNT Appointments are committed while no dispatcher runs (a backlog in
 *            the outbox), then the jobs runtime starts: events/s = COUNT / (last arrival − start
 *            of the runtime). Writers do not compete for the CPU here; this is what the
 *            dispatcher, fan-out, queue and workers can carry.
 *   paced  — latency: RATE Appointments/s offered for SECONDS (a transaction of RATE/50 every
 *            20 ms) while the runtime runs: latency p50/p90/p99/max at that rate
 *   node server/test/bench/jobs-throughput.ts                # BullMQ on REDIS_URL (default local)
 *   MODE=inline node server/test/bench/jobs-throughput.ts    # no Redis: in-process runner
 *   PHASES=burst COUNT=1000 …, PHASES=paced RATE=200 SECONDS=10 …
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

const COUNT = Number(process.env.COUNT ?? 1000);
const BATCH = Number(process.env.BATCH ?? 50);
const RATE = Number(process.env.RATE ?? 200);
const SECONDS = Number(process.env.SECONDS ?? 10);
const PHASES = (process.env.PHASES ?? 'burst,paced').split(',');
const mode = process.env.MODE === 'inline' ? 'inline' : 'bullmq';

setLogLevel('error');
loadDefinitions();
const t = await createTestDatabase('postgres');
let arrivals: number[] = [];
let latencies: number[] = [];
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
const repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: false });
await repo.create({
  resourceType: 'Subscription', status: 'active', reason: 'bench', criteria: 'Appointment?status=booked',
  channel: { type: 'rest-hook', endpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, payload: 'application/fhir+json' },
} as Resource);
let jobs: Awaited<ReturnType<typeof startJobs>> | undefined;
let n = 0;
const appointment = (): Resource => {
  const at = Date.UTC(2031, 0, 1) + n++ * 60_000;
  return { resourceType: 'Appointment', status: 'booked', start: new Date(at).toISOString(), end: new Date(at + 1_800_000).toISOString(), participant: [{ status: 'accepted', actor: { display: 'x' } }] } as Resource;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (sorted: number[]) => ({ p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), max: sorted[sorted.length - 1] });
async function drain(expected: number): Promise<void> {
  const since = Date.now();
  while (arrivals.length < expected && Date.now() - since < 30_000) await new Promise((r) => setTimeout(r, 10));
}

if (PHASES.includes('burst')) {
  for (let left = COUNT; left > 0; left -= BATCH) await repo.createMany(Array.from({ length: Math.min(BATCH, left) }, appointment));
  arrivals = [];
  latencies = [];
  const began = Date.now();
  jobs = await startJobs(config, t.db, { role: 'worker' });
  await drain(COUNT);
  console.log(JSON.stringify({
    mode, phase: 'burst', events: COUNT, delivered: arrivals.length,
    eventsPerSecond: Math.round(arrivals.length / ((Math.max(...arrivals) - began) / 1000)),
  }));
}

if (PHASES.includes('paced')) {
  jobs ??= await startJobs(config, t.db, { role: 'worker' });
  await new Promise((r) => setTimeout(r, 1000)); // let the Subscription's own event pass
  arrivals = [];
  latencies = [];
  const perTick = Math.max(1, Math.round(RATE / 50));
  const ticks = Math.round((RATE * SECONDS) / perTick);
  const began = Date.now();
  const writes: Promise<unknown>[] = [];
  for (let k = 0; k < ticks; k++) {
    const due = began + k * 20;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    writes.push(repo.createMany(Array.from({ length: perTick }, appointment)));
  }
  await Promise.all(writes);
  const offered = ticks * perTick;
  const written = Date.now();
  await drain(offered);
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(JSON.stringify({
    mode, phase: 'paced', offeredPerSecond: Math.round(offered / ((written - began) / 1000)), events: offered, delivered: arrivals.length,
    latencyMs: summary(sorted),
  }));
}
await jobs?.stop();
receiver.close();
await t.close();
