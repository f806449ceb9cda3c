import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PractitionerRole, Schedule, Slot } from '@medplum/fhirtypes';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { appointmentFor, buildClinic, freeSlots, repoAs, type Clinic } from './sched-fixtures.ts';
import { formatInZone, toLocal } from '../src/scheduling/time.ts';

let t: TestDatabase;
let clinic: Clinic;
beforeAll(async () => {
  t = await createTestDatabase('postgres');
  clinic = await buildClinic(t.db, 1);
});
afterAll(async () => {
  await t?.close();
});

async function slotsOfRole(roleId: string): Promise<Slot[]> {
  const { rows } = await t.db.query<{ content: string }>(
    `SELECT r.content FROM sched_slot s JOIN resource r ON r.type = 'Slot' AND r.id = s.slot_id AND NOT r.deleted
      WHERE s.schedule_id = (SELECT id FROM resource WHERE type = 'Schedule' AND content LIKE '%PractitionerRole/' || $1 || '"%' AND NOT deleted)
      ORDER BY s.starts`,
    [roleId],
  );
  return rows.map((r) => JSON.parse(r.content));
}

describe('Schedule and Slots from PractitionerRole hours', () => {
  it('gives each role a Schedule whose actors are the role, the practitioner and the location', async () => {
    const repo = repoAs(t.db);
    const { rows } = await t.db.query<{ content: string }>(`SELECT content FROM resource WHERE type = 'Schedule'`);
    expect(rows).toHaveLength(3);
    const schedule = rows.map((r) => JSON.parse(r.content) as Schedule).find((s) => s.actor.some((a) => a.reference === `PractitionerRole/${clinic.gpRole}`))!;
    expect(schedule.actor.map((a) => a.reference)).toEqual([`PractitionerRole/${clinic.gpRole}`, `Practitioner/${clinic.gp}`, `Location/${clinic.location}`]);
    expect(await repo.readResource('Schedule', schedule.id!)).toBeTruthy();
  });

  it('makes free 30-minute slots on :00/:30 within 09:00–17:00 local time for 8 weeks', async () => {
    const slots = await slotsOfRole(clinic.gpRole);
    // 16 a day; today may be partly gone, and the horizon ends mid-day 56 days on.
    expect(slots.length).toBeGreaterThan(16 * 54);
    expect(slots.length).toBeLessThanOrEqual(16 * 57);
    for (const s of slots) {
      const l = toLocal(Date.parse(s.start), 'Australia/Sydney');
      expect(l.minute % 30).toBe(0);
      expect(l.hour).toBeGreaterThanOrEqual(9);
      expect(l.hour).toBeLessThan(17);
      expect(Date.parse(s.end) - Date.parse(s.start)).toBe(1_800_000);
      expect(s.start).toBe(formatInZone(Date.parse(s.start), 'Australia/Sydney'));
      expect(s.status).toBe('free');
    }
    const last = Date.parse(slots[slots.length - 1].start);
    expect(last - Date.now()).toBeGreaterThan(54 * 86_400_000);
    expect(last - Date.now()).toBeLessThanOrEqual(56 * 86_400_000);
  });

  it('regenerates when the hours change without touching booked slots', async () => {
    const [slot] = await freeSlots(t.db, clinic.gpRole, 1, Date.now() + 2 * 86_400_000);
    const booked = await repoAs(t.db).create(appointmentFor(slot, clinic.patients[0]));
    expect(booked.resource.id).toBeTruthy();
    const repo = repoAs(t.db);
    const role = await repo.readResource<PractitionerRole>('PractitionerRole', clinic.gpRole);
    const bookedHour = toLocal(Date.parse(slot.start), 'Australia/Sydney').hour;
    // New hours exclude the booked slot's hour entirely: 06:00–08:00 only.
    await repo.update({ ...role, availableTime: [{ daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], availableStartTime: '06:00:00', availableEndTime: '08:00:00' }] });
    const after = await slotsOfRole(clinic.gpRole);
    const kept = after.filter((s) => toLocal(Date.parse(s.start), 'Australia/Sydney').hour >= 9);
    expect(kept.map((s) => s.id)).toEqual([slot.id]);
    expect(kept[0].status).toBe('busy');
    expect(bookedHour).toBeGreaterThanOrEqual(9);
    expect(after.filter((s) => s.status === 'free').every((s) => toLocal(Date.parse(s.start), 'Australia/Sydney').hour < 8)).toBe(true);
    expect(after.length).toBeGreaterThan(4 * 54);
    // Saving the same hours again changes nothing.
    const before = (await t.db.query('SELECT count(*)::int AS n FROM resource_history WHERE type = $1', ['Slot'])).rows[0];
    const current = await repo.readResource<PractitionerRole>('PractitionerRole', clinic.gpRole);
    await repo.update({ ...current, telecom: [{ system: 'phone', value: '02 9000 0000' }] });
    expect((await t.db.query('SELECT count(*)::int AS n FROM resource_history WHERE type = $1', ['Slot'])).rows[0]).toEqual(before);
  });
});
