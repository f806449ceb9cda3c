/**
 * SMS reminders end to end in embedded mode (no Redis): the real `twilio` package against a
 * loopback fake Twilio, the clock moved to make reminders due, Communications recorded with the
 * SID, signed status callbacks, opt-out, and the queue "you're next" text.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Communication } from '@medplum/fhirtypes';
import { SMS_OPT_OUT_URL } from '../../bots/types.ts';
import { startJobs, type JobsRuntime } from '../src/jobs/runtime.ts';
import { runSchedule } from '../src/jobs/targets.ts';
import { TWILIO_SID_SYSTEM } from '../src/notify/sender.ts';
import { fetchJson, startTestServer, type TestServer } from './server.ts';
import { startFakeTwilio, waitFor, type FakeTwilio } from './support/fake-twilio.ts';

const SID = 'AC' + 'a'.repeat(32);
const TOKEN = 'test-auth-token';
let fake: FakeTwilio;
let server: TestServer;
let jobs: JobsRuntime;
let now = new Date();

beforeAll(async () => {
  fake = await startFakeTwilio(SID, TOKEN);
  server = await startTestServer({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+61400000000', TWILIO_API_BASE: fake.url, REMINDER_SCAN_MS: '3600000' });
  jobs = await startJobs(server.config, server.database.db, { role: 'server', services: { clock: () => now } });
});
afterAll(async () => {
  await jobs?.stop();
  await server?.close();
  await fake?.close();
});

async function create(resource: Record<string, unknown>): Promise<any> {
  const res = await fetchJson(`${server.fhir}/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status).toBe(201);
  return res.body;
}

async function smsTo(patientId: string): Promise<Communication[]> {
  const res = await fetchJson(`${server.fhir}/Communication?recipient=Patient/${patientId}&medium=SMSWRIT&_count=100`);
  return (res.body.entry ?? []).map((e: any) => e.resource);
}

describe('SMS reminders', () => {
  it('texts 24 h and 2 h before, once each, records the SID, and skips opted-out patients', async () => {
    const ann = await create({ resourceType: 'Patient', name: [{ given: ['Ann'] }], telecom: [{ system: 'phone', use: 'mobile', value: '+61411111111' }] });
    const bob = await create({
      resourceType: 'Patient', name: [{ given: ['Bob'] }], telecom: [{ system: 'phone', value: '+61422222222' }],
      extension: [{ url: SMS_OPT_OUT_URL, valueBoolean: true }],
    });
    const start = new Date(Date.now() + 3 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    const end = new Date(start.getTime() + 30 * 60_000);
    for (const p of [ann, bob]) {
      await create({ resourceType: 'Appointment', status: 'booked', start: start.toISOString(), end: end.toISOString(), participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }] });
    }

    now = new Date(start.getTime() - 25 * 3_600_000); // nothing due yet
    await runSchedule(jobs.services, 'reminders');
    now = new Date(start.getTime() - 24 * 3_600_000 + 60_000); // 24 h reminder due
    await runSchedule(jobs.services, 'reminders');
    await runSchedule(jobs.services, 'reminders'); // a second tick sends nothing more
    jobs.kick();
    await waitFor(() => fake.messages.length >= 1, 20_000, 'first SMS');
    const [first] = await waitFor(async () => {
      const list = await smsTo(ann.id);
      return list.filter((c) => c.status === 'completed').length === 1 ? list : undefined;
    }, 20_000, 'recorded SMS');
    expect(first.identifier?.find((i) => i.system === TWILIO_SID_SYSTEM)?.value).toBe(fake.messages[0].sid);
    expect(fake.messages[0].to).toBe('+61411111111');
    expect(fake.messages[0].body).toMatch(/^Reminder: you have an appointment/);

    now = new Date(start.getTime() - 2 * 3_600_000 + 60_000); // 2 h reminder due
    await runSchedule(jobs.services, 'reminders');
    await runSchedule(jobs.services, 'reminders');
    jobs.kick();
    await waitFor(() => fake.messages.length >= 2, 20_000, 'second SMS');
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.messages.map((m) => m.to)).toEqual(['+61411111111', '+61411111111']);
    expect(await smsTo(bob.id)).toEqual([]);
    const recorded = await smsTo(ann.id);
    expect(recorded.map((c) => c.status)).toEqual(['completed', 'completed']);

    // Twilio's status callback, signed; a forged one is refused.
    const url = `${server.config.baseUrl}/notify/twilio/status`;
    const params = { MessageSid: fake.messages[1].sid, MessageStatus: 'undelivered', ErrorCode: '30003' };
    const forged = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bogus' }, body: new URLSearchParams(params) });
    expect(forged.status).toBe(403);
    const signature = twilio.getExpectedTwilioSignature(TOKEN, url, params);
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params) });
    expect(ok.status).toBe(204);
    const updated = (await smsTo(ann.id)).find((c) => c.identifier?.some((i) => i.value === fake.messages[1].sid));
    expect(updated?.status).toBe('not-done');
    expect(updated?.statusReason?.text).toContain('30003');
  });

  it('texts whoever is at the head of the waiting queue that they are next, once each', async () => {
    const practitioner = await create({ resourceType: 'Practitioner', name: [{ family: 'Who' }] });
    const day = new Date(Date.now() + 86_400_000);
    day.setUTCHours(1, 0, 0, 0);
    const patients = [];
    const appts = [];
    for (let i = 0; i < 2; i++) {
      const p = await create({ resourceType: 'Patient', telecom: [{ system: 'sms', value: `+6143333333${i}` }] });
      patients.push(p);
      const s = new Date(day.getTime() + i * 30 * 60_000);
      appts.push(await create({
        resourceType: 'Appointment', status: 'booked', start: s.toISOString(), end: new Date(s.getTime() + 30 * 60_000).toISOString(),
        participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }, { actor: { reference: `Practitioner/${practitioner.id}` }, status: 'accepted' }],
      }));
    }
    const before = fake.messages.length;
    // The later patient arrives first: they are at the head, so they are next.
    await fetchJson(`${server.fhir}/Appointment/${appts[1].id}`, { method: 'PUT', body: { ...appts[1], status: 'arrived' } });
    await waitFor(() => fake.messages.length >= before + 1, 20_000, 'you are next');
    // Then the earlier one arrives: now head of the queue (texted "next"); nobody else is texted.
    await fetchJson(`${server.fhir}/Appointment/${appts[0].id}`, { method: 'PUT', body: { ...appts[0], status: 'arrived' } });
    await waitFor(() => fake.messages.length >= before + 2, 20_000, 'second queue text');
    await new Promise((r) => setTimeout(r, 500));
    const texts = fake.messages.slice(before).map((m) => [m.to, m.body.slice(0, 12)]);
    expect(texts).toEqual([['+61433333331', "You're next!"], ['+61433333330', "You're next!"]]);
  });

  it('texts a patient who checks in behind others their place in the queue, and "you\'re next" when they reach the head', async () => {
    const practitioner = await create({ resourceType: 'Practitioner', name: [{ family: 'Queue' }] });
    const day = new Date(Date.now() + 2 * 86_400_000);
    day.setUTCHours(0, 0, 0, 0);
    const phones = ['+61444444440', '+61444444441', '+61444444442'];
    const appts: any[] = [];
    for (const [i, phone] of phones.entries()) {
      const p = await create({ resourceType: 'Patient', telecom: [{ system: 'sms', value: phone }] });
      const s = new Date(day.getTime() + i * 30 * 60_000);
      appts.push(await create({
        resourceType: 'Appointment', status: 'booked', start: s.toISOString(), end: new Date(s.getTime() + 30 * 60_000).toISOString(),
        participant: [{ actor: { reference: `Patient/${p.id}` }, status: 'accepted' }, { actor: { reference: `Practitioner/${practitioner.id}` }, status: 'accepted' }],
      }));
    }
    const before = fake.messages.length;
    const texts = () => fake.messages.slice(before).map((m) => [m.to, m.body]);
    const put = async (n: number, status: string) => {
      const res = await fetchJson(`${server.fhir}/Appointment/${appts[n].id}`, { method: 'PUT', body: { ...appts[n], status } });
      expect(res.status).toBe(200);
      appts[n] = res.body;
    };
    // The first patient arrives: head of the queue, "next".
    await put(0, 'arrived');
    await waitFor(() => texts().length >= 1, 20_000, 'first text');
    // The third checks in behind: number 2.
    await put(2, 'checked-in');
    await waitFor(() => texts().length >= 2, 20_000, 'position text');
    // The second arrives: ahead of the third (earlier appointment), number 2.
    await put(1, 'arrived');
    await waitFor(() => texts().length >= 3, 20_000, 'second position text');
    // The first is seen: the second is now at the head, "next".
    await put(0, 'fulfilled');
    await waitFor(() => texts().length >= 4, 20_000, 'next text');
    await new Promise((r) => setTimeout(r, 1000));
    expect(texts()).toEqual([
      [phones[0], "You're next! Please make your way to reception."],
      [phones[2], "You're checked in. You are number 2 in the queue; we will text you when you're next."],
      [phones[1], "You're checked in. You are number 2 in the queue; we will text you when you're next."],
      [phones[1], "You're next! Please make your way to reception."],
    ]);
  });
});
