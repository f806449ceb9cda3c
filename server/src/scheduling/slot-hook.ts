/**
 * The Slot write hook: keeps `sched_slot` (schedule, times, status) in step with every Slot
 * version, and refuses to free or delete a slot an appointment holds, whoever asks.
 */
import type { Resource, Slot } from '@medplum/fhirtypes';
import type { WriteHook } from '../fhir/repo/hooks.ts';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { badRequest, conflict } from '../fhir/outcomes.ts';
import { refId } from './refs.ts';
import { parseInstant } from './time.ts';

async function liveClaim(repo: FhirRepository, slotId: string): Promise<string | undefined> {
  const { rows } = await repo.queryable.query<{ appointment_id: string }>(
    'SELECT appointment_id FROM sched_claim WHERE slot_id = $1 AND (expires_at IS NULL OR expires_at > now())',
    [slotId],
    'sched_live_claim',
  );
  return rows[0]?.appointment_id;
}

function times(slot: Slot): { start: number; end: number } {
  const start = parseInstant(slot.start);
  const end = parseInstant(slot.end);
  if (start === undefined || end === undefined) throw badRequest('Slot.start and Slot.end must be instants with a time zone', ['Slot.start']);
  if (end <= start) throw badRequest('Slot.end must be after Slot.start', ['Slot.end']);
  return { start, end };
}

export const slotHook: WriteHook = {
  name: 'scheduling.slot',
  types: ['Slot'],

  async beforeWrite(repo, next, previous) {
    const slot = next as Slot | undefined;
    if (slot) times(slot);
    if (!previous) return;
    const old = previous as Slot;
    const freed = !slot || slot.status === 'free' || slot.start !== old.start || slot.end !== old.end;
    if (freed) {
      const holder = await liveClaim(repo, previous.id as string);
      if (holder) throw conflict(`Slot/${previous.id} is held by Appointment/${holder}; cancel or move the appointment first`);
    }
  },

  async afterWrite(repo, stored, previous) {
    if (!stored) {
      await repo.queryable.query('DELETE FROM sched_slot WHERE slot_id = $1', [(previous as Resource).id]);
      return;
    }
    await upsertSlots(repo, [stored as Slot]);
  },

  async afterCreateMany(repo, stored) {
    await upsertSlots(repo, stored as Slot[]);
  },
};

async function upsertSlots(repo: FhirRepository, slots: Slot[]): Promise<void> {
  if (!slots.length) return;
  await repo.queryable.query(
    `INSERT INTO sched_slot (slot_id, schedule_id, starts, ends, status)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])
     ON CONFLICT (slot_id) DO UPDATE SET schedule_id = EXCLUDED.schedule_id, starts = EXCLUDED.starts,
       ends = EXCLUDED.ends, status = EXCLUDED.status`,
    [
      slots.map((s) => s.id),
      slots.map((s) => refId(s.schedule, 'Schedule') ?? null),
      slots.map((s) => new Date(parseInstant(s.start) as number)),
      slots.map((s) => new Date(parseInstant(s.end) as number)),
      slots.map((s) => s.status),
    ],
    'sched_upsert_slots',
  );
}
