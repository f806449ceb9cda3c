/**
 * Availability as FHIR: one Schedule per PractitionerRole (actor: the role, its Practitioner and
 * its Location) and free 30-minute Slots over the rolling horizon. Regeneration creates the slots
 * the hours now call for and deletes free ones they no longer do; booked, held and blocked slots
 * are never touched. One role is regenerated at a time (advisory lock), so concurrent runs agree.
 */
import type { PractitionerRole, Reference, Schedule, Slot } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import { SLOT_MINUTES, slotStarts } from './availability.ts';
import { schedulingSettings } from './settings.ts';
import { formatInZone } from './time.ts';

export const SCHEDULE_SYSTEM = 'urn:clinic:schedule';
const SLOT_MS = SLOT_MINUTES * 60_000;

export interface RegenerateResult {
  scheduleId: string;
  created: number;
  removed: number;
}

/** The Schedule of a role (created when missing, actors kept in step with the role). */
export async function ensureSchedule(repo: FhirRepository, role: PractitionerRole): Promise<Schedule> {
  const search = parseSearch('Schedule', { identifier: `${SCHEDULE_SYSTEM}|${role.id}` });
  search.count = 1;
  const { matches } = await repo.search(search);
  const actor: Reference[] = [{ reference: `PractitionerRole/${role.id}` }];
  if (role.practitioner?.reference) actor.push({ reference: role.practitioner.reference, display: role.practitioner.display });
  for (const l of role.location ?? []) if (l.reference) actor.push({ reference: l.reference, display: l.display });
  const wanted: Schedule = {
    resourceType: 'Schedule',
    identifier: [{ system: SCHEDULE_SYSTEM, value: role.id }],
    active: role.active !== false,
    actor: actor as Schedule['actor'],
    serviceType: role.code,
    specialty: role.specialty,
    comment: `30-minute slots from the hours of PractitionerRole/${role.id}`,
  };
  if (matches.length === 0) return (await repo.create(wanted)).resource as Schedule;
  const existing = JSON.parse(matches[0].content as string) as Schedule;
  const same = JSON.stringify([existing.active, existing.actor, existing.serviceType, existing.specialty]) ===
    JSON.stringify([wanted.active, wanted.actor, wanted.serviceType, wanted.specialty]);
  if (same) return existing;
  return (await repo.update({ ...wanted, id: existing.id })).resource as Schedule;
}

/**
 * Brings a role's free slots in line with its hours over [now, now + horizon). `repo` must be
 * inside a transaction and have the platform's rights.
 */
export async function regenerateSlots(repo: FhirRepository, role: PractitionerRole, now = Date.now()): Promise<RegenerateResult> {
  const { timeZone, horizonDays } = schedulingSettings();
  await repo.queryable.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sched:role:${role.id}`]);
  const schedule = await ensureSchedule(repo, role);
  const from = Math.ceil(now / SLOT_MS) * SLOT_MS;
  const to = from + horizonDays * 86_400_000;
  const wanted = role.active === false ? [] : slotStarts(role, from, to, timeZone);
  const { rows } = await repo.queryable.query<{ slot_id: string; starts: Date; status: string }>(
    `SELECT s.slot_id, s.starts, CASE WHEN c.slot_id IS NULL THEN s.status ELSE 'claimed' END AS status
       FROM sched_slot s LEFT JOIN sched_claim c ON c.slot_id = s.slot_id
      WHERE s.schedule_id = $1 AND s.starts >= $2`,
    [schedule.id, new Date(from)],
  );
  const have = new Map(rows.map((r) => [new Date(r.starts).getTime(), r]));
  const wantedSet = new Set(wanted);
  let removed = 0;
  for (const r of rows) {
    if (r.status === 'free' && !wantedSet.has(new Date(r.starts).getTime())) {
      await repo.delete('Slot', r.slot_id);
      removed++;
    }
  }
  const missing = wanted.filter((t) => !have.has(t));
  const slots: Slot[] = missing.map((t) => ({
    resourceType: 'Slot',
    schedule: { reference: `Schedule/${schedule.id}` },
    status: 'free',
    start: formatInZone(t, timeZone),
    end: formatInZone(t + SLOT_MS, timeZone),
    serviceType: role.code,
    specialty: role.specialty,
  }));
  for (let i = 0; i < slots.length; i += 500) await repo.createMany(slots.slice(i, i + 500));
  return { scheduleId: schedule.id as string, created: slots.length, removed };
}

/** Whether a role's hours (or anything slots are made from) differ between two versions. */
export function hoursChanged(next: PractitionerRole, previous: PractitionerRole | undefined): boolean {
  if (!previous) return true;
  const key = (r: PractitionerRole) => JSON.stringify([r.active, r.availableTime, r.notAvailable, r.location, r.practitioner, r.code, r.specialty]);
  return key(next) !== key(previous);
}
