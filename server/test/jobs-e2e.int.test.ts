/**
 * JOBS end to end with real Redis and BullMQ (workers in-process, WORKERS=inline), AUTH on, the
 * real app over HTTP, and real peers on loopback: a rest-hook receiver that checks the HMAC
 * signature, `ws` websocket clients, an `smtp-server` SMTP server and a fake Twilio driven by the
 * real `twilio` package. Covers Subscriptions (criteria on the new version, HMAC, visible errors
 * and recovery, dead-lettering), the websocket channel and who may bind it, the referral e-mail,
 * appointment and report notifications, announcements, the notification feed, and who may make
 * the platform send an SMS.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Appointment, Communication, Resource, Subscription } from '@medplum/fhirtypes';
import { ANNOUNCEMENT_CATEGORY } from '../../bots/announcements.ts';
import { systemContext } from '../src/context.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { startJobs, type JobsRuntime } from '../src/jobs/runtime.ts';
import { TWILIO_SID_SYSTEM } from '../src/notify/sender.ts';
import { SUBSCRIPTION_SECRET_URL } from '../src/subscriptions/deliver.ts';
import { attachSubscriptionWebsocket, WEBSOCKET_PATH } from '../src/subscriptions/websocket.ts';
import { createResource, createUser, loginForTokens, type TestUser } from './auth-helpers.ts';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { startFakeTwilio, waitFor, type FakeTwilio } from './support/fake-twilio.ts';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.ts';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const SID = 'AC' + 'b'.repeat(32);
const TOKEN = 'e2e-auth-token';
const ATTEMPTS = 4;

let server: TestServer;
let jobs: JobsRuntime;
let websocket: { close(): Promise<void> };
let smtp: TestSmtpServer;
let twilioFake: FakeTwilio;
let admin: TestUser;
let adminToken: string;
let patient: TestUser;
let patientToken: string;

/** A rest-hook endpoint: records each POST, checks its signature, answers `status(path)`. */
interface Hook {
  path: string;
  body: string;
  eventId: string;
  signatureValid: boolean | undefined;
  /** The status the receiver answered. */
  answered: number;
}
const hooks: Hook[] = [];
const hookStatus = new Map<string, number>();
const hookSecret = randomBytes(16).toString('hex');
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const signature = req.headers['x-signature'];
    const expected = 'sha256=' + createHmac('sha256', hookSecret).update(body).digest('hex');
    const answered = hookStatus.get(req.url ?? '') ?? 200;
    hooks.push({ path: req.url ?? '', body, eventId: String(req.headers['x-event-id']), signatureValid: signature === undefined ? undefined : signature === expected, answered });
    res.writeHead(answered).end();
  });
});
let hookBase: string;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  smtp = await startSmtpServer();
  twilioFake = await startFakeTwilio(SID, TOKEN);
  server = await startTestServer({
    AUTH_REQUIRED: 'on', REDIS_URL, QUEUE_PREFIX: `test-e2e-${randomBytes(4).toString('hex')}`, WORKERS: 'inline',
    JOB_ATTEMPTS: String(ATTEMPTS), JOB_BACKOFF_MS: '400', SMTP_URL: smtp.url, EMAIL_FROM: 'Clinic <clinic@example.org>',
    TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+61400000000', TWILIO_API_BASE: twilioFake.url, REMINDER_SCAN_MS: '3600000',
  }, 'postgres');
  jobs = await startJobs(server.config, server.database.db, { role: 'server' });
  websocket = attachSubscriptionWebsocket(server.http, jobs.broadcaster, { db: server.database.db, issuer: server.app.auth.issuer, authRequired: true });
  admin = await createUser(server, 'admin');
  adminToken = (await loginForTokens(server, admin, { clientId: 'charting-app', scope: 'openid fhirUser user/*.cruds' })).access_token;
  patient = await createUser(server, 'patient');
  patientToken = (await loginForTokens(server, patient, { scope: 'openid fhirUser launch/patient patient/*.cruds' })).access_token;
}, 60_000);
afterAll(async () => {
  await websocket?.close();
  await jobs?.stop();
  await server?.close();
  await smtp?.close();
  await twilioFake?.close();
  receiver.close();
});

async function as<T = any>(token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  return fetchJson<T>(`${server.fhir}/${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });
}

async function create<T extends Resource>(token: string, resource: T): Promise<T & { id: string }> {
  const res = await as(token, resource.resourceType, { method: 'POST', body: resource });
  if (res.status !== 201) throw new Error(`create ${resource.resourceType}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Clinical writes come from the platform here (what the jobs see is the same whoever writes). */
async function update(resource: Resource): Promise<void> {
  await new FhirRepository(systemContext(), server.database.db, { referentialIntegrity: false }).update(resource);
}

async function subscription(id: string): Promise<Subscription> {
  return (await as<Subscription>(adminToken, `Subscription/${id}`)).body;
}

/** Creates a Subscription as an admin client would (status requested) and waits for the server to activate it. */
async function subscribe(sub: Omit<Subscription, 'resourceType' | 'status'>): Promise<Subscription & { id: string }> {
  const created = await create<Subscription>(adminToken, { resourceType: 'Subscription', status: 'requested', ...sub });
  await waitFor(async () => (await subscription(created.id)).status === 'active', 20_000, 'Subscription active');
  return created;
}

function appointment(patientId: string, status: Appointment['status'], hoursAhead = 48): Appointment {
  const start = new Date(Date.now() + hoursAhead * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  return {
    resourceType: 'Appointment', status, start: start.toISOString(), end: new Date(start.getTime() + 1_800_000).toISOString(),
    participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }],
  };
}

const settle = (ms = 1000) => new Promise((r) => setTimeout(r, ms));

describe('rest-hook Subscriptions', () => {
  it('POSTs versions matching the criteria, signed with HMAC; errors show on the Subscription and clear on recovery', async () => {
    const p = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Hooked' }] });
    const other = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Other' }] });
    const path = '/hook-a';
    const sub = await subscribe({
      reason: 'cancellations', criteria: `Appointment?status=cancelled&patient=Patient/${p.id}`,
      channel: { type: 'rest-hook', endpoint: hookBase + path, payload: 'application/fhir+json', header: ['X-Clinic: e2e'] },
      extension: [{ url: SUBSCRIPTION_SECRET_URL, valueString: hookSecret }],
    });
    const mine = () => hooks.filter((h) => h.path === path);

    // Booked: no match. Another patient's cancellation: no match. Then this one is cancelled: the new version matches.
    const appt = await createResource(server, appointment(p.id, 'booked'));
    await createResource(server, appointment(other.id, 'cancelled'));
    await update({ ...appt, status: 'cancelled' });
    await waitFor(() => mine().length >= 1, 20_000, 'the hook');
    await settle();
    expect(mine()).toHaveLength(1);
    const [first] = mine();
    expect(first.signatureValid).toBe(true);
    expect(first.eventId).toBe(`Appointment/${appt.id}/_history/2`);
    expect(JSON.parse(first.body)).toMatchObject({ resourceType: 'Appointment', id: appt.id, status: 'cancelled', meta: { versionId: '2' } });

    // The endpoint fails: the Subscription shows the error while the delivery is retried.
    hookStatus.set(path, 503);
    const second = await createResource(server, appointment(p.id, 'cancelled', 72));
    const failing = await waitFor(async () => {
      const s = await subscription(sub.id);
      return s.status === 'error' ? s : undefined;
    }, 20_000, 'Subscription in error');
    expect(failing.error).toMatch(/Endpoint answered 503/);
    // It recovers: the retry delivers the same event, and the Subscription is active again.
    hookStatus.delete(path);
    const secondKey = `Appointment/${second.id}/_history/1`;
    await waitFor(() => mine().some((h) => h.eventId === secondKey && h.answered === 200), 20_000, 'the retried hook');
    expect(mine().filter((h) => h.eventId === secondKey).map((h) => h.answered)).toEqual([...mine().filter((h) => h.eventId === secondKey).slice(0, -1).map(() => 503), 200]);
    const recovered = await waitFor(async () => {
      const s = await subscription(sub.id);
      return s.status === 'active' ? s : undefined;
    }, 20_000, 'Subscription active again');
    expect(recovered.error).toBeUndefined();
    expect(mine().every((h) => h.signatureValid === true)).toBe(true);
  });

  it('dead-letters a delivery that fails every attempt: kept with its event, visible on the Subscription', async () => {
    const p = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Unlucky' }] });
    const path = '/always-fails';
    hookStatus.set(path, 500);
    const sub = await subscribe({ reason: 'broken', criteria: `Appointment?patient=Patient/${p.id}`, channel: { type: 'rest-hook', endpoint: hookBase + path } });
    const appt = await createResource(server, appointment(p.id, 'booked'));
    const key = `Appointment/${appt.id}/_history/1`;
    const db = server.database.db;
    const dead = await waitFor(async () => (await db.query<{ queue: string; data: string; error: string; attempts: number }>(
      `SELECT queue, data, error, attempts FROM job_dead_letter WHERE data LIKE $1`, [`%${appt.id}%`])).rows[0], 30_000, 'dead letter');
    expect(dead.queue).toBe('deliveries');
    expect(dead.attempts).toBe(ATTEMPTS);
    expect(dead.error).toMatch(/Endpoint answered 500/);
    expect(JSON.parse(dead.data)).toMatchObject({ event: { type: 'Appointment', id: appt.id, version: 1 }, targets: [{ kind: 'subscription', name: sub.id }] });
    // Every attempt reached the endpoint, then no more.
    await settle(1500);
    expect(hooks.filter((h) => h.path === path && h.eventId === key)).toHaveLength(ATTEMPTS);
    const s = await subscription(sub.id);
    expect(s.status).toBe('error');
    expect(s.error).toMatch(new RegExp(`Gave up delivering ${key} after ${ATTEMPTS} attempts`));
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_event WHERE res_id = $1', [appt.id])).rows[0].n).toBe(0);
  }, 60_000);

  it('refuses a Subscription whose criteria are not a valid search, saying why', async () => {
    const created = await create<Subscription>(adminToken, {
      resourceType: 'Subscription', status: 'requested', reason: 'bad', criteria: 'Appointment?date=notadate', channel: { type: 'rest-hook', endpoint: hookBase + '/x' },
    });
    const s = await waitFor(async () => {
      const got = await subscription(created.id);
      return got.status !== 'requested' ? got : undefined;
    }, 20_000, 'Subscription checked');
    expect(s.status).toBe('error');
    expect(s.error).toMatch(/Invalid criteria/);
  });
});

/** A websocket client that collects messages. */
async function socket(headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: string[]; next(match: RegExp): Promise<string> }> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${WEBSOCKET_PATH}`, { headers });
  const messages: string[] = [];
  ws.on('message', (d) => messages.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  return { ws, messages, next: (match) => waitFor(() => messages.find((m) => match.test(m)), 20_000, `websocket message ${match}`) };
}

describe('websocket Subscriptions', () => {
  it('binds only callers who may read the Subscription, then pings on each matching change', async () => {
    const p = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Live' }] });
    const sub = await subscribe({ reason: 'feed', criteria: `Communication?recipient=Patient/${p.id}`, channel: { type: 'websocket' } });

    // No token (AUTH on): refused. A patient's token: cannot read Subscriptions, refused. A forged token: the upgrade is refused.
    const anonymous = await socket();
    anonymous.ws.send(`bind ${sub.id}`);
    expect(await anonymous.next(/^error/)).toMatch(new RegExp(`^error ${sub.id} authentication required`));
    const asPatient = await socket({ authorization: `Bearer ${patientToken}` });
    asPatient.ws.send(`bind ${sub.id}`);
    expect(await asPatient.next(/^error/)).toMatch(/no such Subscription, or you may not read it/);
    await expect(socket({ authorization: 'Bearer not.a.token' })).rejects.toThrow(/401/);
    // A token in the bind message (what browsers do) is checked the same way.
    anonymous.ws.send(`bind ${sub.id} ${patientToken}`);
    await waitFor(() => anonymous.messages.filter((m) => m.startsWith('error')).length >= 2, 10_000, 'second refusal');

    // The admin's token may read it: bound, over the header or in the message.
    const viaHeader = await socket({ authorization: `Bearer ${adminToken}` });
    viaHeader.ws.send(`bind ${sub.id}`);
    expect(await viaHeader.next(/^bound/)).toBe(`bound ${sub.id}`);
    const viaMessage = await socket();
    viaMessage.ws.send(`bind ${sub.id} ${adminToken}`);
    expect(await viaMessage.next(/^bound/)).toBe(`bound ${sub.id}`);

    // A matching change (a notification to that patient) pings both bound sockets, and nobody else.
    await createResource(server, appointment(p.id, 'booked'));
    expect(await viaHeader.next(/^ping/)).toBe(`ping ${sub.id}`);
    expect(await viaMessage.next(/^ping/)).toBe(`ping ${sub.id}`);
    await settle(500);
    expect(anonymous.messages.some((m) => m.startsWith('ping'))).toBe(false);
    expect(asPatient.messages.some((m) => m.startsWith('ping'))).toBe(false);
    for (const s of [anonymous, asPatient, viaHeader, viaMessage]) s.ws.close();
  });
});

describe('referral e-mail', () => {
  it('e-mails the specialist when the ServiceRequest becomes active, within 30 s, once', async () => {
    const specialist = await createResource(server, { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Hattie'], family: 'Heart' }], telecom: [{ system: 'email', value: 'heart@example.org' }] });
    const role = await createResource(server, { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner/${specialist.id}` }, specialty: [{ text: 'cardiology' }] });
    const gp = await createResource(server, { resourceType: 'Practitioner', name: [{ prefix: ['Dr'], given: ['Gail'], family: 'Practice' }] });
    const p = await createResource(server, { resourceType: 'Patient', name: [{ given: ['Rita'], family: 'Referred' }], birthDate: '1970-05-04' });
    const sr = await createResource(server, {
      resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject: { reference: `Patient/${p.id}` },
      requester: { reference: `Practitioner/${gp.id}` }, performer: [{ reference: `PractitionerRole/${role.id}` }],
      code: { text: 'Cardiology consultation' }, note: [{ text: 'Please see Rita about palpitations.' }],
    });
    await settle(1000);
    const before = smtp.received.length;
    expect(smtp.received.filter((m) => m.to.includes('heart@example.org'))).toHaveLength(0); // a draft is not sent

    const activated = Date.now();
    await update({ ...sr, status: 'active' });
    const mail = await waitFor(() => smtp.received.find((m) => m.to.includes('heart@example.org')), 30_000, 'referral e-mail');
    expect(Date.now() - activated).toBeLessThan(30_000);
    expect(mail.from).toBe('clinic@example.org');
    expect(mail.raw).toMatch(/^Subject: Referral: Rita Referred/m);
    expect(mail.raw).toContain('Reason: Cardiology consultation');
    expect(mail.raw).toContain('Please see Rita about palpitations.');
    expect(mail.raw).toContain(`ServiceRequest/${sr.id}`);
    // Recorded as a Communication, completed; a later unrelated change to the referral sends nothing more.
    const sent = await waitFor(async () => {
      const list = (await as(adminToken, `Communication?based-on=ServiceRequest/${sr.id}`)).body.entry ?? [];
      return list.length === 1 && list[0].resource.status === 'completed' ? list[0].resource : undefined;
    }, 20_000, 'referral Communication completed');
    expect(sent.medium[0].coding[0].code).toBe('EMAILWRIT');
    await update({ ...sr, status: 'active', note: [...(sr.note ?? []), { text: 'Urgent.' }] });
    await settle(2000);
    expect(smtp.received.length).toBe(before + 1);
  }, 60_000);
});

describe('notifications and the feed', () => {
  it('tells the patient of confirmed and cancelled appointments and ready reports; the patient reads them as a feed', async () => {
    const pid = patient.fhirUser.split('/')[1];
    const appt = await createResource(server, appointment(pid, 'booked', 30));
    await update({ ...appt, status: 'cancelled' });
    await createResource(server, { resourceType: 'DiagnosticReport', status: 'preliminary', code: { text: 'Full blood count' }, subject: { reference: `Patient/${pid}` } });
    const report = await createResource(server, { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'Lipid panel' }, subject: { reference: `Patient/${pid}` } });
    // Someone else's notifications never show in this feed.
    const other = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Else' }] });
    await createResource(server, appointment(other.id, 'booked', 31));

    const feed = async (): Promise<Communication[]> => ((await as(patientToken, `Communication?recipient=Patient/${pid}&_sort=-sent&_count=50`)).body.entry ?? []).map((e: any) => e.resource as Communication);
    const items = await waitFor(async () => {
      const list = await feed();
      return list.length >= 3 ? list : undefined;
    }, 20_000, 'three notifications');
    await settle(1000);
    const texts = (await feed()).map((c) => c.payload?.[0]?.contentString ?? '');
    expect(texts).toHaveLength(3);
    expect(texts.filter((t) => /^Your appointment on .* is confirmed\.$/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /^Your appointment on .* has been cancelled\.$/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => t === 'Your Lipid panel is ready to view.')).toHaveLength(1);
    expect(items.every((c) => c.status === 'completed' && c.recipient?.[0]?.reference === `Patient/${pid}`)).toBe(true);
    expect(items.find((c) => c.payload?.[0]?.contentString?.includes('Lipid'))?.about?.[0]?.reference).toBe(`DiagnosticReport/${report.id}`);
    // The patient cannot read another patient's feed (searches leave it out).
    const theirs = await as(patientToken, `Communication?recipient=Patient/${other.id}`);
    expect(theirs.body.entry ?? []).toEqual([]);
  }, 60_000);

  it('copies an admin announcement to every patient of the centre, and only them', async () => {
    const centre = await createResource(server, { resourceType: 'Organization', name: 'Centre North' });
    const elsewhere = await createResource(server, { resourceType: 'Organization', name: 'Centre South' });
    const members = await Promise.all([1, 2, 3].map((n) => createResource(server, { resourceType: 'Patient', name: [{ family: `North${n}` }], managingOrganization: { reference: `Organization/${centre.id}` } })));
    const outsider = await createResource(server, { resourceType: 'Patient', name: [{ family: 'South' }], managingOrganization: { reference: `Organization/${elsewhere.id}` } });
    const announcement = await create<Communication>(adminToken, {
      resourceType: 'Communication', status: 'preparation', category: [{ coding: [ANNOUNCEMENT_CATEGORY] }],
      recipient: [{ reference: `Organization/${centre.id}` }], topic: { text: 'Flu clinic' }, payload: [{ contentString: 'Flu shots every Saturday in May.' }],
    });
    const copies = await waitFor(async () => {
      const list: Communication[] = ((await as(adminToken, `Communication?part-of=Communication/${announcement.id}&_count=50`)).body.entry ?? []).map((e: any) => e.resource as Communication);
      return list.length >= 3 ? list : undefined;
    }, 20_000, 'announcement copies');
    await settle(1000);
    expect(copies.map((c) => c.recipient?.[0]?.reference).sort()).toEqual(members.map((m) => `Patient/${m.id}`).sort());
    expect(copies.every((c) => c.status === 'completed' && c.payload?.[0]?.contentString === 'Flu shots every Saturday in May.')).toBe(true);
    expect((await as(adminToken, `Communication?recipient=Patient/${outsider.id}`)).body.entry ?? []).toEqual([]);
    expect((await as<Communication>(adminToken, `Communication/${announcement.id}`)).body.status).toBe('completed');
  }, 60_000);
});

describe('who may make the platform send an SMS', () => {
  const sms = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode', code: 'SMSWRIT' }] };
  async function settled(id: string): Promise<Communication> {
    return waitFor(async () => {
      const c = (await as<Communication>(adminToken, `Communication/${id}`)).body;
      return c.status !== 'preparation' ? c : undefined;
    }, 20_000, 'Communication handled');
  }

  it('sends what staff and the platform write, never what a patient writes', async () => {
    const pid = patient.fhirUser.split('/')[1];
    const target = await createResource(server, { resourceType: 'Patient', name: [{ family: 'Target' }], telecom: [{ system: 'phone', use: 'mobile', value: '+61455555555' }] });
    // The patient may create a Communication in their compartment, asking for an SMS to someone else: not sent.
    const before = twilioFake.messages.length;
    const forged = await create<Communication>(patientToken, {
      resourceType: 'Communication', status: 'preparation', medium: [sms], subject: { reference: `Patient/${pid}` }, sender: { reference: `Patient/${pid}` },
      recipient: [{ reference: `Patient/${target.id}` }], payload: [{ contentString: 'Free money! Call now' }],
    });
    const refused = await settled(forged.id);
    expect(refused.status).toBe('not-done');
    expect(refused.statusReason?.text).toMatch(/Only the clinic/);
    expect(twilioFake.messages.slice(before)).toEqual([]);

    // Staff (an admin here) writing to the patient: sent, and recorded with the SID.
    const fromGp = await create<Communication>(adminToken, {
      resourceType: 'Communication', status: 'preparation', medium: [sms], subject: { reference: `Patient/${target.id}` },
      recipient: [{ reference: `Patient/${target.id}` }], payload: [{ contentString: 'Please call the clinic about your results.' }],
    });
    const sent = await settled(fromGp.id);
    expect(sent.status).toBe('completed');
    const sid = sent.identifier?.find((i) => i.system === TWILIO_SID_SYSTEM)?.value;
    expect(twilioFake.messages.find((m) => m.sid === sid)).toMatchObject({ to: '+61455555555', body: 'Please call the clinic about your results.' });

    // The platform's own (no author) is sent too.
    const own = await createResource(server, {
      resourceType: 'Communication', status: 'preparation', medium: [sms], recipient: [{ reference: `Patient/${target.id}` }], payload: [{ contentString: 'Clinic closed Monday.' }],
    } as Communication);
    expect((await settled(own.id)).status).toBe('completed');
    expect(twilioFake.messages.slice(before).map((m) => m.body)).toEqual(['Please call the clinic about your results.', 'Clinic closed Monday.']);
  }, 60_000);
});
