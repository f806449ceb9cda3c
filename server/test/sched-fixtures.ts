/**
 * A small clinic for the scheduling tests: one centre, a GP (09:00–17:00 every day), a
 * specialist, a provider who confirms by hand, a receptionist and patients; plus repositories
 * acting as given callers (the hooks read `context.caller`; access policies are AUTH's and left out).
 */
import type { Appointment, Resource, Slot } from '@medplum/fhirtypes';
import type { Caller } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { FhirRepository } from '../src/fhir/repo/repository.ts';
import { MANUAL_CONFIRMATION_URL } from '../src/scheduling/codes.ts';

export const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export function repoAs(db: Database, caller?: Caller): FhirRepository {
  return new FhirRepository({ requestId: 'test', caller }, db, { referentialIntegrity: true });
}

export const asPatient = (id: string): Caller => ({ subject: `u-${id}`, role: 'patient', fhirUser: `Patient/${id}`, scopes: [] });
export const asRole = (role: string, fhirUser: string): Caller => ({ subject: `u-${fhirUser}`, role, fhirUser, scopes: [] });

export interface Clinic {
  org: string;
  location: string;
  gp: string; // Practitioner id
  gpRole: string;
  specialist: string;
  specialistRole: string;
  manual: string;
  manualRole: string;
  receptionist: string;
  patients: string[];
}

async function make<T extends Resource>(repo: FhirRepository, r: T): Promise<string> {
  return (await repo.create(r)).resource.id as string;
}

export async function buildClinic(db: Database, patientCount = 3): Promise<Clinic> {
  const repo = repoAs(db);
  const org = await make(repo, { resourceType: 'Organization', name: 'Royal Randwick Hospital', address: [{ city: 'Randwick' }] });
  const location = await make(repo, { resourceType: 'Location', name: 'Royal Randwick Hospital', managingOrganization: { reference: `Organization/${org}` } });
  const practitioner = (name: string, email: string) => make(repo, {
    resourceType: 'Practitioner', name: [{ text: name }], identifier: [{ system: 'urn:clinic:account-email', value: email }],
  });
  const role = (who: string, code: string, extra: object = {}) => make(repo, {
    resourceType: 'PractitionerRole', active: true, practitioner: { reference: `Practitioner/${who}` },
    organization: { reference: `Organization/${org}` }, location: [{ reference: `Location/${location}` }],
    code: [{ coding: [{ system: 'urn:clinic:provider-role', code }], text: code }],
    availableTime: [{ daysOfWeek: [...EVERY_DAY], availableStartTime: '09:00:00', availableEndTime: '17:00:00' }],
    ...extra,
  } as Resource);
  const gp = await practitioner('Jack Jackson', 'jack@example.org');
  const specialist = await practitioner('Sara Heart', 'sara@example.org');
  const manual = await practitioner('Mo Manual', 'mo@example.org');
  const receptionist = await practitioner('Rita Desk', 'rita@example.org');
  const gpRole = await role(gp, 'gp');
  const specialistRole = await role(specialist, 'specialist', { specialty: [{ text: 'Cardiology' }] });
  const manualRole = await role(manual, 'physiotherapist', { extension: [{ url: MANUAL_CONFIRMATION_URL, valueBoolean: true }] });
  const patients: string[] = [];
  for (let i = 0; i < patientCount; i++) {
    patients.push(await make(repo, {
      resourceType: 'Patient', name: [{ text: `Patient ${i}` }], identifier: [{ system: 'urn:clinic:account-email', value: `p${i}@example.org` }],
    }));
  }
  return { org, location, gp, gpRole, specialist, specialistRole, manual, manualRole, receptionist, patients };
}

/** Free slots of a role from `after` on (soonest first). */
export async function freeSlots(db: Database, roleId: string, count = 10, after = Date.now()): Promise<Slot[]> {
  const { rows } = await db.query<{ content: string }>(
    `SELECT r.content FROM sched_slot s JOIN resource r ON r.type = 'Slot' AND r.id = s.slot_id
      JOIN resource sc ON sc.type = 'Schedule' AND sc.id = s.schedule_id
     WHERE s.status = 'free' AND s.starts > $2 AND sc.content LIKE '%' || $1 || '%'
     ORDER BY s.starts LIMIT $3`,
    [`PractitionerRole/${roleId}`, new Date(after), count],
  );
  return rows.map((r) => JSON.parse(r.content));
}

/** A free Slot of the role's Schedule that started two days ago (for visits in the past). */
export async function pastSlot(db: Database, roleId: string): Promise<Slot> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM resource WHERE type = 'Schedule' AND NOT deleted AND content LIKE '%"PractitionerRole/' || $1 || '"%'`, [roleId]);
  const start = new Date(Math.floor((Date.now() - 48 * 3_600_000) / 1_800_000) * 1_800_000);
  return (await repoAs(db).create({
    resourceType: 'Slot', schedule: { reference: `Schedule/${rows[0].id}` }, status: 'free',
    start: start.toISOString(), end: new Date(start.getTime() + 1_800_000).toISOString(),
  })).resource as Slot;
}

export function appointmentFor(slot: Slot, patient: string, extra: Partial<Appointment> = {}): Appointment {
  return {
    resourceType: 'Appointment', status: 'booked', slot: [{ reference: `Slot/${slot.id}` }], start: slot.start, end: slot.end,
    participant: [{ actor: { reference: `Patient/${patient}` }, status: 'accepted' }],
    description: 'I want to take a blood test',
    ...extra,
  };
}
