/**
 * The Appointment write hook: the booking rules of CONTRACT "Booking", enforced on every write
 * of an Appointment however it arrives (POST, PUT, PATCH, transactions, $book, $hold).
 *
 * - An appointment that occupies time (proposed, pending, booked, arrived, checked-in,
 *   fulfilled) claims its slots (one appointment per slot, by primary key: the loser of a race
 *   gets 409 "Slot unavailable") and its patient's time (overlaps → 422).
 * - Callers other than the platform: times must be well-formed (400), in the future, on a :00/:30
 *   boundary, equal to the slots' and inside the provider's hours (422); only the patient (for
 *   themselves) or a receptionist/admin may book; a provider never books with themselves; a
 *   specialist needs a referral; providers who confirm by hand receive `proposed` bookings and
 *   accept or decline them through their participant status.
 * - Cancelling (or declining, or deleting) frees the slots; changing slot or time is one atomic
 *   step (old claims released, new ones taken, or nothing changes).
 */
import type { Appointment, AppointmentParticipant, Extension, Patient, Practitioner, PractitionerRole, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import type { WriteHook } from '../fhir/repo/hooks.ts';
import type { FhirRepository } from '../fhir/repo/repository.ts';
import { badRequest, conflict, unprocessable } from '../fhir/outcomes.ts';
import type { Caller } from '../context.ts';
import { onSlotBoundary, withinHours } from './availability.ts';
import { assertNoOverlap, claimSlots, recordOccupied, releaseAppointment, slotUnavailable, type OccupiedTime } from './claims.ts';
import { HOLD_EXPIRES_URL, MANUAL_CONFIRMATION_URL, OCCUPYING, ACCOUNT_EMAIL_SYSTEM, isTimelessRequest } from './codes.ts';
import { isSpecialist, requireReferral } from './referral.ts';
import { BOOKING_STAFF, callerIdentity, isBackendService, readAsPlatform, refId, refParts } from './refs.ts';
import { schedulingSettings } from './settings.ts';
import { parseInstant } from './time.ts';
import { addVideoRoom, isVideoVisit } from './video.ts';

interface Resolved {
  slots: Slot[];
  schedule?: Schedule;
  role?: PractitionerRole;
  patientId?: string;
  practitionerId?: string;
  start: number;
  end: number;
}

/** Whether an appointment holds provider time (a time-less request does not). */
const occupiesTime = (a: Appointment) => OCCUPYING.has(a.status) && !isTimelessRequest(a);

const slotIdsOf = (a: Appointment) => (a.slot ?? []).map((s) => refId(s, 'Slot')).filter((x): x is string => !!x);
const patientOf = (a: Appointment) => a.participant?.map((p) => refId(p.actor, 'Patient')).find(Boolean);
const isStaff = (c: Caller) => (c.role !== undefined && BOOKING_STAFF.has(c.role)) || isBackendService(c);

function instant(value: string | undefined, field: string): number {
  if (value === undefined) throw badRequest(`Appointment.${field} is required`, [`Appointment.${field}`]);
  const ms = parseInstant(value);
  if (ms === undefined) throw badRequest(`Appointment.${field} "${value}" is not a valid date and time (expected e.g. 2025-07-01T09:00:00+10:00)`, [`Appointment.${field}`]);
  return ms;
}

/** Reads what an appointment points at: its slots, their schedule and role, the people. */
async function resolve(repo: FhirRepository, a: Appointment, strict: boolean): Promise<Resolved> {
  const start = instant(a.start, 'start');
  const end = instant(a.end, 'end');
  if (end <= start) throw badRequest('Appointment.end must be after Appointment.start', ['Appointment.end']);
  const slots: Slot[] = [];
  for (const id of slotIdsOf(a)) {
    const slot = await readAsPlatform<Slot>(repo, 'Slot', id);
    if (!slot) throw unprocessable(`Slot/${id} does not exist`, ['Appointment.slot']);
    slots.push(slot);
  }
  slots.sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
  const scheduleId = refId(slots[0]?.schedule, 'Schedule');
  const schedule = await readAsPlatform<Schedule>(repo, 'Schedule', scheduleId);
  const roleId = schedule?.actor?.map((x) => refId(x, 'PractitionerRole')).find(Boolean)
    ?? a.participant?.map((p) => refId(p.actor, 'PractitionerRole')).find(Boolean);
  const role = await readAsPlatform<PractitionerRole>(repo, 'PractitionerRole', roleId);
  const practitionerId = refId(role?.practitioner, 'Practitioner') ?? a.participant?.map((p) => refId(p.actor, 'Practitioner')).find(Boolean);
  if (strict) {
    if (!slots.length) throw unprocessable('A booking must name the Slot it takes (Appointment.slot)', ['Appointment.slot']);
    if (slots.some((s) => refId(s.schedule, 'Schedule') !== scheduleId)) throw unprocessable('All slots of an appointment must belong to one schedule', ['Appointment.slot']);
    for (let i = 1; i < slots.length; i++) {
      if (Date.parse(slots[i].start) !== Date.parse(slots[i - 1].end)) throw unprocessable('The slots of an appointment must follow each other', ['Appointment.slot']);
    }
    if (Date.parse(slots[0].start) !== start || Date.parse(slots[slots.length - 1].end) !== end) {
      throw unprocessable('Appointment.start and Appointment.end must be those of its slot(s)', ['Appointment.start']);
    }
    if (!role) throw unprocessable('The slot\'s schedule belongs to no PractitionerRole', ['Appointment.slot']);
  }
  return { slots, schedule, role, patientId: patientOf(a), practitionerId, start, end };
}

/** Same person? A Patient and a Practitioner sharing an account e-mail are one user. */
async function samePerson(repo: FhirRepository, patientId: string, practitionerId: string | undefined): Promise<boolean> {
  if (!practitionerId) return false;
  const emails = (r: { identifier?: { system?: string; value?: string }[]; telecom?: { system?: string; value?: string }[] } | undefined) =>
    new Set([...(r?.identifier ?? []).filter((i) => i.system === ACCOUNT_EMAIL_SYSTEM).map((i) => i.value?.toLowerCase()),
      ...(r?.telecom ?? []).filter((t) => t.system === 'email').map((t) => t.value?.toLowerCase())].filter(Boolean));
  const p = emails(await readAsPlatform<Patient>(repo, 'Patient', patientId));
  const d = emails(await readAsPlatform<Practitioner>(repo, 'Practitioner', practitionerId));
  return [...p].some((e) => d.has(e));
}

/** Who may make or move a booking, and for whom. */
async function checkBooker(repo: FhirRepository, caller: Caller, r: Resolved): Promise<void> {
  const me = callerIdentity(caller)?.join('/');
  if (me && r.practitionerId && me === `Practitioner/${r.practitionerId}`) throw unprocessable('A provider cannot book an appointment with themselves');
  if (await samePerson(repo, r.patientId as string, r.practitionerId)) throw unprocessable('A provider cannot book an appointment with themselves');
  if (caller.role === 'patient') {
    if (me !== `Patient/${r.patientId}`) throw unprocessable('A patient may book only for themselves', ['Appointment.participant']);
    return;
  }
  if (!isStaff(caller)) throw unprocessable('Only the patient or a receptionist may book an appointment');
}

/** The participant entries the booking needs: patient, role, practitioner, location. */
function completeParticipants(a: Appointment, r: Resolved, providerStatus: AppointmentParticipant['status']): AppointmentParticipant[] {
  const list = [...(a.participant ?? [])];
  const has = (ref: string) => list.some((p) => refParts(p.actor)?.join('/') === ref);
  const add = (ref: string | undefined, status: AppointmentParticipant['status']) => {
    if (ref && !has(ref)) list.push({ actor: { reference: ref }, status });
  };
  add(r.role ? `PractitionerRole/${r.role.id}` : undefined, providerStatus);
  add(r.practitionerId ? `Practitioner/${r.practitionerId}` : undefined, providerStatus);
  add(r.role?.location?.[0]?.reference, 'accepted');
  return list;
}

/** Participants that are the provider (their Practitioner or PractitionerRole). */
function isProviderParticipant(p: AppointmentParticipant, r: Resolved): boolean {
  const ref = refParts(p.actor)?.join('/');
  return ref === `Practitioner/${r.practitionerId}` || (!!r.role && ref === `PractitionerRole/${r.role.id}`);
}

function manualConfirmation(role: PractitionerRole | undefined): boolean {
  return role?.extension?.some((e) => e.url === MANUAL_CONFIRMATION_URL && e.valueBoolean === true) ?? false;
}

function holdExpiry(a: Appointment): Date | null {
  if (a.status !== 'pending') return null;
  const v = a.extension?.find((e) => e.url === HOLD_EXPIRES_URL)?.valueDateTime;
  return v ? new Date(v) : new Date(Date.now() + schedulingSettings().holdMinutes * 60_000);
}

function withoutHold(ext: Extension[] | undefined): Extension[] | undefined {
  const rest = (ext ?? []).filter((e) => e.url !== HOLD_EXPIRES_URL);
  return rest.length ? rest : undefined;
}

async function beforeWrite(repo: FhirRepository, next: Resource | undefined, previous: Resource | undefined): Promise<Resource | void> {
  const caller = repo.context.caller;
  const prev = previous as Appointment | undefined;
  if (!next) {
    if (prev) await releaseAppointment(repo, prev.id as string);
    return;
  }
  let a = structuredClone(next) as Appointment;
  const wasOccupying = !!prev && occupiesTime(prev);
  const r = occupiesTime(a) || wasOccupying ? await resolve(repo, occupiesTime(a) ? a : (prev as Appointment), false) : undefined;

  // The provider's answer to a proposed booking: accepted → booked, declined → cancelled.
  if (prev?.status === 'proposed' && a.status === 'proposed' && r) {
    const answers = (a.participant ?? []).filter((p) => isProviderParticipant(p, r)).map((p) => p.status);
    if (answers.includes('declined')) a.status = 'cancelled';
    else if (answers.length && answers.every((s) => s === 'accepted')) a.status = 'booked';
  }
  const occupying = occupiesTime(a);
  const moved = occupying && (!wasOccupying || prev?.start !== a.start || prev?.end !== a.end
    || slotIdsOf(prev as Appointment).sort().join() !== slotIdsOf(a).sort().join() || patientOf(prev as Appointment) !== patientOf(a));

  if (caller) await checkCaller(repo, caller, a, prev, r as Resolved, moved);
  if (!occupying) {
    await releaseAppointment(repo, a.id as string);
    return a;
  }
  const res = moved ? await resolve(repo, a, caller !== undefined) : (r as Resolved);
  let referralId: string | undefined;
  if (caller && moved) {
    if (!res.patientId) throw unprocessable('The appointment needs a Patient participant', ['Appointment.participant']);
    if (!(await readAsPlatform(repo, 'Patient', res.patientId))) throw unprocessable(`Patient/${res.patientId} does not exist`, ['Appointment.participant']);
    const { timeZone } = schedulingSettings();
    if (res.start <= Date.now()) throw unprocessable('An appointment cannot be booked in the past', ['Appointment.start']);
    if (!onSlotBoundary(res.start, timeZone)) throw unprocessable('Appointments start on the hour or the half hour', ['Appointment.start']);
    const blocked = res.slots.find((s) => s.status === 'busy-unavailable' || s.status === 'entered-in-error');
    if (blocked) throw slotUnavailable(blocked.id as string);
    if (res.role?.active === false || !withinHours(res.role as PractitionerRole, res.start, res.end, timeZone)) {
      throw unprocessable('That time is outside the provider\'s hours', ['Appointment.start']);
    }
    await checkBooker(repo, caller, res);
    if (isSpecialist(res.role as PractitionerRole)) referralId = await requireReferral(repo, a, res.role as PractitionerRole, res.patientId, res.start);
    if (a.status !== 'proposed' && a.status !== 'booked' && a.status !== 'pending') {
      throw unprocessable(`A new booking has status proposed, pending or booked, not ${a.status}`, ['Appointment.status']);
    }
    if (a.status === 'booked' && manualConfirmation(res.role) && !isStaff(caller)) a.status = 'proposed';
    a.participant = completeParticipants(a, res, a.status === 'proposed' ? 'needs-action' : 'accepted');
  } else if (moved) {
    // The platform (seeding, migration) is trusted; a referral it names is still recorded as used.
    referralId = (a.basedOn ?? []).map((b) => refId(b, 'ServiceRequest')).find(Boolean);
  } else if (prev) {
    referralId = (await repo.queryable.query<{ referral_id: string | null }>('SELECT referral_id FROM sched_appointment WHERE appointment_id = $1', [a.id])).rows[0]?.referral_id ?? undefined;
  }
  const expiresAt = holdExpiry(a);
  if (a.status === 'pending') {
    a.extension = [...(withoutHold(a.extension) ?? []), { url: HOLD_EXPIRES_URL, valueDateTime: (expiresAt as Date).toISOString() }];
  } else a.extension = withoutHold(a.extension);
  if (!a.extension) delete a.extension;

  const time: OccupiedTime = {
    appointmentId: a.id as string, patientId: res.patientId, roleId: res.role?.id, practitionerId: res.practitionerId,
    organizationId: refId(res.role?.organization, 'Organization'), start: res.start, end: res.end, status: a.status, referralId, expiresAt,
  };
  if (moved) await assertNoOverlap(repo, time);
  const { displaced } = await claimSlots(repo, a.id as string, res.slots.map((s) => s.id as string), expiresAt);
  await recordOccupied(repo, time);
  for (const id of displaced) await cancelLapsedHold(repo, id);
  if (a.status === 'booked' && isVideoVisit(a)) a = addVideoRoom(a);
  return a;
}

/** Permission for changes that are not a new booking: confirming, cancelling, checking in. */
async function checkCaller(repo: FhirRepository, caller: Caller, a: Appointment, prev: Appointment | undefined, r: Resolved | undefined, moved: boolean): Promise<void> {
  if (moved || !prev) return; // bookings and moves are checked in full
  if (isStaff(caller)) return;
  const me = callerIdentity(caller)?.join('/');
  const isPatient = me === `Patient/${patientOf(prev)}`;
  const isProvider = !!r && (me === `Practitioner/${r.practitionerId}` || me === `PractitionerRole/${r.role?.id}`);
  if (!isPatient && !isProvider) throw unprocessable('Only the appointment\'s patient, its provider or a receptionist may change it');
  if (prev.status === 'proposed' && a.status === 'booked' && !isProvider) {
    throw unprocessable('This booking waits for the provider\'s confirmation');
  }
}

/** An expired hold lost its slot to another booking: it becomes cancelled. */
async function cancelLapsedHold(repo: FhirRepository, appointmentId: string): Promise<void> {
  const platform = repo.asPlatform();
  const held = await readAsPlatform<Appointment>(repo, 'Appointment', appointmentId);
  if (held && held.status === 'pending') {
    await platform.update({ ...held, status: 'cancelled', cancelationReason: { text: 'The hold expired' } } as Appointment);
  }
}

/** Slot statuses follow their claims: busy (booked), busy-tentative (proposed/held), free. */
async function afterWrite(repo: FhirRepository, stored: Resource | undefined, previous: Resource | undefined): Promise<void> {
  const ids = new Set([...slotIdsOf((stored ?? {}) as Appointment), ...slotIdsOf((previous ?? {}) as Appointment)]);
  if (!ids.size) return;
  const { rows } = await repo.queryable.query<{ slot_id: string; status: string | null }>(
    `SELECT s.id AS slot_id, a.status FROM unnest($1::text[]) AS s(id)
       LEFT JOIN sched_claim c ON c.slot_id = s.id AND (c.expires_at IS NULL OR c.expires_at > now())
       LEFT JOIN sched_appointment a ON a.appointment_id = c.appointment_id`,
    [[...ids]],
  );
  const platform = repo.asPlatform();
  for (const row of rows) {
    const wanted = row.status === null ? 'free' : row.status === 'proposed' || row.status === 'pending' ? 'busy-tentative' : 'busy';
    const slot = await readAsPlatform<Slot>(repo, 'Slot', row.slot_id);
    if (slot && slot.status !== wanted && slot.status !== 'busy-unavailable') await platform.update({ ...slot, status: wanted });
  }
}

export const appointmentHook: WriteHook = { name: 'scheduling.appointment', types: ['Appointment'], beforeWrite, afterWrite };
export { conflict };
