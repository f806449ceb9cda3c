/**
 * The database side of a booking: slot claims (one appointment per slot, by primary key), the
 * patient's occupied time (overlaps refused under a per-patient advisory lock), referral use
 * (unique index) and the queue's check-in times. Everything runs in the write's transaction.
 */
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { OperationOutcomeError, conflict, outcome, unprocessable } from '../fhir/outcomes.ts';

export const slotUnavailable = (slotId: string) =>
  new OperationOutcomeError(outcome('error', 'conflict', `Slot unavailable: this time (Slot/${slotId}) is already taken; choose another time`), 409);

export interface ClaimResult {
  /** Appointments whose expired holds this claim took over (to be cancelled). */
  displaced: string[];
}

/** Claims `slotIds` for an appointment (a hold when `expiresAt` is set). 409 when any is taken. */
export async function claimSlots(repo: FhirRepository, appointmentId: string, slotIds: string[], expiresAt: Date | null): Promise<ClaimResult> {
  const q = repo.queryable;
  await q.query('DELETE FROM sched_claim WHERE appointment_id = $1 AND NOT (slot_id = ANY($2::text[]))', [appointmentId, slotIds]);
  const displaced: string[] = [];
  for (const slotId of slotIds) {
    const inserted = await q.query(
      'INSERT INTO sched_claim (slot_id, appointment_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (slot_id) DO NOTHING RETURNING 1',
      [slotId, appointmentId, expiresAt],
      'sched_claim_insert',
    );
    if (inserted.rowCount === 1) continue;
    // Taken (possibly by a transaction that committed while we waited): whose, and is it live?
    const { rows } = await q.query<{ appointment_id: string; live: boolean }>(
      `SELECT appointment_id, (expires_at IS NULL OR expires_at > now()) AS live FROM sched_claim WHERE slot_id = $1 FOR UPDATE`,
      [slotId],
      'sched_claim_lock',
    );
    const holder = rows[0];
    if (!holder) throw slotUnavailable(slotId); // released meanwhile; the client may retry
    if (holder.appointment_id !== appointmentId && holder.live) throw slotUnavailable(slotId);
    if (holder.appointment_id !== appointmentId) displaced.push(holder.appointment_id);
    await q.query('UPDATE sched_claim SET appointment_id = $2, expires_at = $3 WHERE slot_id = $1', [slotId, appointmentId, expiresAt]);
  }
  return { displaced };
}

/** Drops an appointment's claims and occupied time; returns the slots it held. */
export async function releaseAppointment(repo: FhirRepository, appointmentId: string): Promise<string[]> {
  const { rows } = await repo.queryable.query<{ slot_id: string }>('DELETE FROM sched_claim WHERE appointment_id = $1 RETURNING slot_id', [appointmentId]);
  await repo.queryable.query('DELETE FROM sched_appointment WHERE appointment_id = $1', [appointmentId]);
  return rows.map((r) => r.slot_id);
}

export interface OccupiedTime {
  appointmentId: string;
  patientId: string | undefined;
  roleId: string | undefined;
  practitionerId: string | undefined;
  organizationId: string | undefined;
  start: number;
  end: number;
  status: string;
  referralId: string | undefined;
  expiresAt: Date | null;
}

/** 422 when the patient already holds another live appointment overlapping [start, end). */
export async function assertNoOverlap(repo: FhirRepository, t: OccupiedTime): Promise<void> {
  if (!t.patientId) return;
  await repo.queryable.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sched:patient:${t.patientId}`], 'sched_patient_lock');
  const { rows } = await repo.queryable.query<{ appointment_id: string }>(
    `SELECT appointment_id FROM sched_appointment
      WHERE patient_id = $1 AND appointment_id <> $2 AND starts < $4 AND ends > $3
        AND (expires_at IS NULL OR expires_at > now())
      LIMIT 1`,
    [t.patientId, t.appointmentId, new Date(t.start), new Date(t.end)],
    'sched_overlap',
  );
  if (rows[0]) throw unprocessable(`The patient already has an appointment at that time (Appointment/${rows[0].appointment_id})`, ['Appointment.start']);
}

/** Records (or updates) the time an appointment occupies. */
export async function recordOccupied(repo: FhirRepository, t: OccupiedTime): Promise<void> {
  try {
    await repo.queryable.query(
      `INSERT INTO sched_appointment (appointment_id, patient_id, role_id, practitioner_id, organization_id, starts, ends, status, referral_id, expires_at, arrived_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $8 IN ('arrived', 'checked-in') THEN now() END)
       ON CONFLICT (appointment_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, role_id = EXCLUDED.role_id,
         practitioner_id = EXCLUDED.practitioner_id, organization_id = EXCLUDED.organization_id, starts = EXCLUDED.starts,
         ends = EXCLUDED.ends, status = EXCLUDED.status, referral_id = EXCLUDED.referral_id, expires_at = EXCLUDED.expires_at,
         arrived_at = CASE WHEN EXCLUDED.status IN ('arrived', 'checked-in') THEN coalesce(sched_appointment.arrived_at, now()) END`,
      [t.appointmentId, t.patientId ?? null, t.roleId ?? null, t.practitionerId ?? null, t.organizationId ?? null,
        new Date(t.start), new Date(t.end), t.status, t.referralId ?? null, t.expiresAt],
      'sched_record_occupied',
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw unprocessable('That referral has already been used for another appointment', ['Appointment.basedOn']);
    throw err;
  }
}

export { conflict };
