/**
 * "Sent or not?" — SMS sends across crashes, with real worker processes (`src/worker.ts`), Redis,
 * BullMQ and the real `twilio` package against a loopback Twilio stand-in:
 *   - the worker is killed (SIGKILL) while Twilio holds its request: the message may or may not
 *     have gone out, so the next worker does not send it again; the Communication says `unknown`
 *   - Twilio refuses the number: nothing went out, nothing is retried; `not-done` with the reason
 *   - Twilio cannot be reached: certainly not sent, so it is retried and sent once Twilio is back
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Communication, Resource } from '@medplum/fhirtypes';
import { SMS } from '../../bots/types.ts';
import { systemContext } from '../src/context.ts';
import { loadDefinitions } from '../src/fhir/definitions.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { waitFor } from './support/fake-twilio.ts';

const SERVER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const SID = 'AC' + 'c'.repeat(32);
const prefix = `test-sms-${randomBytes(4).toString('hex')}`;
let t: TestDatabase;
let repo: FhirRepository;
const children: ChildProcess[] = [];

/** Twilio's Messages API on loopback: `hold` leaves requests unanswered; `refuse` answers 400 for those numbers. */
const received: { to: string; body: string }[] = [];
const held: http.ServerResponse[] = [];
let hold = false;
const refuse = new Set<string>();
let messageNo = 0;
const twilio = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const to = form.get('To') ?? '';
    received.push({ to, body: form.get('Body') ?? '' });
    if (hold) {
      held.push(res);
      return;
    }
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (refuse.has(to)) return json(400, { code: 21211, message: `The 'To' number ${to} is not a valid phone number.`, status: 400 });
    json(201, { sid: `SM${String(++messageNo).padStart(32, '0')}`, account_sid: SID, to, body: form.get('Body'), status: 'queued' });
  });
});
let twilioPort: number;

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['src/worker.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env, DATABASE_URL: t.url, REDIS_URL, QUEUE_PREFIX: prefix, JOB_LOCK_MS: '2000', JOB_BACKOFF_MS: '300', JOB_ATTEMPTS: '6', LOG_LEVEL: 'error', DATABASE_POOL_SIZE: '5',
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+61400000000', TWILIO_API_BASE: `http://127.0.0.1:${twilioPort}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

async function sms(to: string, text: string): Promise<Communication & { id: string }> {
  const patient = (await repo.create({ resourceType: 'Patient', telecom: [{ system: 'phone', use: 'mobile', value: to }] } as Resource)).resource;
  return (await repo.create({
    resourceType: 'Communication', status: 'preparation', medium: [{ coding: [SMS] }],
    recipient: [{ reference: `Patient/${patient.id}` }], payload: [{ contentString: text }],
  } as Resource)).resource as Communication & { id: string };
}

async function settled(id: string): Promise<Communication> {
  return waitFor(async () => {
    const c = await repo.readResource<Communication>('Communication', id);
    return c.status !== 'preparation' ? c : undefined;
  }, 30_000, `Communication/${id} handled`);
}

beforeAll(async () => {
  loadDefinitions();
  t = await createTestDatabase('postgres');
  repo = new FhirRepository(systemContext(), t.db, { referentialIntegrity: false });
  await new Promise<void>((r) => twilio.listen(0, '127.0.0.1', r));
  twilioPort = (twilio.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const c of children) await kill(c);
  for (const res of held) res.destroy();
  twilio.closeAllConnections();
  twilio.close();
  await t?.close();
});

it('does not resend an SMS whose worker died mid-send, and records that it may not have gone out', async () => {
  hold = true;
  const first = startWorker();
  const c = await sms('+61411000001', 'Your results are in.');
  await waitFor(() => received.some((r) => r.to === '+61411000001'), 30_000, 'the send reaching Twilio');
  await kill(first); // Twilio got the request; whether it sent the message, nobody will ever hear
  hold = false;
  startWorker();
  const after = await settled(c.id);
  expect(after.status).toBe('unknown');
  expect(after.statusReason?.text).toMatch(/not resent, to avoid sending twice/);
  await new Promise((r) => setTimeout(r, 2000));
  expect(received.filter((r) => r.to === '+61411000001')).toHaveLength(1);
  const { rows } = await t.db.query<{ status: string; detail: string }>(`SELECT status, detail FROM job_delivery WHERE event_key = $1 AND handler = 'send'`, [`Communication/${c.id}`]);
  expect(rows).toEqual([{ status: 'done', detail: 'in-doubt' }]);
}, 90_000);

it('records a refusal by Twilio as not sent, without retrying', async () => {
  refuse.add('+61411000002');
  const c = await sms('+61411000002', 'Refused, sadly.');
  const after = await settled(c.id);
  expect(after.status).toBe('not-done');
  expect(after.statusReason?.text).toMatch(/Refused by the SMS provider: .*not a valid phone number/);
  await new Promise((r) => setTimeout(r, 2000));
  expect(received.filter((r) => r.to === '+61411000002')).toHaveLength(1);
}, 60_000);

it('retries an SMS that certainly did not go out (Twilio unreachable) and sends it once Twilio is back', async () => {
  await new Promise<void>((r) => twilio.close(() => r()));
  twilio.closeAllConnections();
  const c = await sms('+61411000003', 'Sent after all.');
  // Attempts fail with ECONNREFUSED meanwhile (nothing reaches Twilio).
  await new Promise((r) => setTimeout(r, 1500));
  expect((await repo.readResource<Communication>('Communication', c.id)).status).toBe('preparation');
  await new Promise<void>((r) => twilio.listen(twilioPort, '127.0.0.1', r));
  const after = await settled(c.id);
  expect(after.status).toBe('completed');
  expect(received.filter((r) => r.to === '+61411000003')).toHaveLength(1);
}, 60_000);
