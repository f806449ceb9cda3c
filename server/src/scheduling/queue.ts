/**
 * The queue on the day: checked-in appointments (status arrived or checked-in) wait for their
 * provider in check-in order. JOBS texts a patient when `queuePosition` reaches 1.
 */
import type { Queryable } from '../db/database.ts';
import { schedulingSettings } from './settings.ts';
import { addDays, toLocal, zonedToUtc } from './time.ts';

export interface QueuePosition {
  /** False when the appointment is not (or no longer) waiting. */
  waiting: boolean;
  /** 1 = next in line. */
  position?: number;
  /** How many wait for the same provider today. */
  queueLength?: number;
  practitionerId?: string;
  arrivedAt?: Date;
}

export async function queuePosition(q: Queryable, appointmentId: string): Promise<QueuePosition> {
  const { rows } = await q.query<{ practitioner_id: string | null; arrived_at: Date | null; starts: Date }>(
    'SELECT practitioner_id, arrived_at, starts FROM sched_appointment WHERE appointment_id = $1', [appointmentId]);
  const me = rows[0];
  if (!me?.arrived_at) return { waiting: false };
  const tz = schedulingSettings().timeZone;
  const day = toLocal(new Date(me.starts).getTime(), tz);
  const dayStart = new Date(zonedToUtc(day, 0, tz));
  const dayEnd = new Date(zonedToUtc(addDays(day, 1), 0, tz));
  const { rows: counts } = await q.query<{ ahead: number; total: number }>(
    `SELECT count(*) FILTER (WHERE arrived_at < $2 OR (arrived_at = $2 AND appointment_id < $3))::int AS ahead, count(*)::int AS total
       FROM sched_appointment
      WHERE practitioner_id IS NOT DISTINCT FROM $1 AND arrived_at IS NOT NULL AND starts >= $4 AND starts < $5`,
    [me.practitioner_id, me.arrived_at, appointmentId, dayStart, dayEnd],
  );
  return {
    waiting: true, position: counts[0].ahead + 1, queueLength: counts[0].total,
    practitionerId: me.practitioner_id ?? undefined, arrivedAt: new Date(me.arrived_at),
  };
}
